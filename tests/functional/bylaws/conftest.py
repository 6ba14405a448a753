"""The console's fixtures (an administrator, a signed-in client, fresh rate limits) for the bylaws' tests."""

from tests.functional.admin.conftest import account, console, fresh_limits  # noqa: F401
