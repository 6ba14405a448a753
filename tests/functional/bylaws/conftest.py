"""The console's fixtures (an administrator, a signed-in client) for the bylaws' tests."""

from tests.functional.admin.conftest import account, console  # noqa: F401
