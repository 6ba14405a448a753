"""The organisation's voting rules as data: one TOML file per preset.

Every number and switch that differs between organisations lives in a policy
file under ``config/policies/``; this module only reads and checks it. A period
keeps a copy of the policy it was opened under, so a later change of file never
alters a running year.
"""

from __future__ import annotations

import tomllib
from dataclasses import asdict, dataclass
from fractions import Fraction
from pathlib import Path

from ballot.counting.methods import METHODS
from ballot.errors import PolicyInvalid
from ballot.roster.records import CLASSES

POLICY_DIR = Path(__file__).resolve().parent.parent / "config" / "policies"
WINDOWS = ("period", "calendar-year")
DENOMINATORS = ("participating", "yes-no")


@dataclass(frozen=True)
class Policy:
    name: str
    title: str
    enabled_classes: tuple[str, ...]
    individual_classes: tuple[str, ...]
    delegates_vote: bool
    missed_votes: int
    window: str
    exempt_classes: tuple[str, ...]
    quorum: Fraction
    max_open_days: int
    denominator: str
    fellow_threshold: Fraction
    fellow_allowed_thresholds: tuple[Fraction, ...]
    board_method: str
    affiliation_cap: Fraction | None

    def as_dict(self) -> dict:
        """A JSON-safe copy, kept with each period."""
        d = asdict(self)
        for key, value in d.items():
            if isinstance(value, Fraction):
                d[key] = str(value)
            elif isinstance(value, tuple):
                d[key] = [str(v) if isinstance(v, Fraction) else v for v in value]
        return d

    @classmethod
    def from_dict(cls, d: dict) -> Policy:
        return cls(
            name=d["name"],
            title=d["title"],
            enabled_classes=tuple(d["enabled_classes"]),
            individual_classes=tuple(d["individual_classes"]),
            delegates_vote=bool(d["delegates_vote"]),
            missed_votes=int(d["missed_votes"]),
            window=d["window"],
            exempt_classes=tuple(d["exempt_classes"]),
            quorum=Fraction(d["quorum"]),
            max_open_days=int(d["max_open_days"]),
            denominator=d["denominator"],
            fellow_threshold=Fraction(d["fellow_threshold"]),
            fellow_allowed_thresholds=tuple(Fraction(t) for t in d["fellow_allowed_thresholds"]),
            board_method=d["board_method"],
            affiliation_cap=Fraction(d["affiliation_cap"]) if d["affiliation_cap"] else None,
        )


def parse_fraction(text: str, what: str) -> Fraction:
    """An exact share between 0 and 1 written as "2/3", "0.5" or "1"."""
    try:
        value = Fraction(str(text).strip())
    except (ValueError, ZeroDivisionError):
        raise PolicyInvalid(f"{what}: {text!r} is not a fraction such as 2/3") from None
    if not 0 <= value <= 1:
        raise PolicyInvalid(f"{what}: {text} is not between 0 and 1")
    return value


def load_policy(name_or_path: str) -> Policy:
    """Read a preset by name (``seed``, ``psf-bylaws``) or a TOML file by path."""
    path = Path(name_or_path)
    if not path.suffix:
        path = POLICY_DIR / f"{name_or_path}.toml"
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise PolicyInvalid(f"no policy file {path}") from None
    except tomllib.TOMLDecodeError as exc:
        raise PolicyInvalid(f"{path}: {exc}") from None
    try:
        classes, forfeiture, votes = (_table(raw, name) for name in ("classes", "forfeiture", "votes"))
        fellow, board = _table(raw, "fellow"), _table(raw, "board")
        policy = Policy(
            name=str(raw["name"]),
            title=str(raw.get("title", raw["name"])),
            enabled_classes=_names(classes["enabled"], "classes.enabled"),
            individual_classes=_names(classes["individual"], "classes.individual"),
            delegates_vote=_flag(classes["delegates_vote"], "classes.delegates_vote"),
            missed_votes=_whole(forfeiture["missed_votes"], "forfeiture.missed_votes"),
            window=str(forfeiture["window"]),
            exempt_classes=_names(forfeiture["exempt_classes"], "forfeiture.exempt_classes"),
            quorum=parse_fraction(votes["quorum"], "votes.quorum"),
            max_open_days=_whole(votes["max_open_days"], "votes.max_open_days"),
            denominator=str(votes["denominator"]),
            fellow_threshold=parse_fraction(fellow["threshold"], "fellow.threshold"),
            fellow_allowed_thresholds=tuple(
                parse_fraction(t, "fellow.allowed_thresholds") for t in fellow["allowed_thresholds"]
            ),
            board_method=str(board["method"]),
            affiliation_cap=(
                parse_fraction(board["affiliation_cap"], "board.affiliation_cap")
                if board["affiliation_cap"]
                else None
            ),
        )
    except KeyError as exc:
        raise PolicyInvalid(f"{path}: missing setting {exc.args[0]}") from None
    except PolicyInvalid as exc:
        raise PolicyInvalid(f"{path}: {exc}") from None
    _check(policy, path)
    return policy


# A TOML file can hold any type where a setting expects one: each is checked,
# so that a quoted "false" never reads as true and "two" never escapes as a ValueError.
def _table(raw: dict, name: str) -> dict:
    value = raw[name]
    if not isinstance(value, dict):
        raise PolicyInvalid(f"[{name}] must be a table of settings")
    return value


def _names(value, what: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise PolicyInvalid(f"{what} must be a list of names in quotes, such as [\"fellow\"]")
    return tuple(value)


def _flag(value, what: str) -> bool:
    if not isinstance(value, bool):
        raise PolicyInvalid(f"{what}: {value!r} is not true or false")
    return value


def _whole(value, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise PolicyInvalid(f"{what}: {value!r} is not a whole number")
    return value


def _check(policy: Policy, path: Path) -> None:
    unknown = set(policy.enabled_classes) - set(CLASSES)
    if unknown:
        raise PolicyInvalid(f"{path}: unknown classes {sorted(unknown)}")
    if not set(policy.individual_classes) <= set(policy.enabled_classes):
        raise PolicyInvalid(f"{path}: classes.individual must be enabled classes")
    if not set(policy.exempt_classes) <= set(policy.enabled_classes):
        raise PolicyInvalid(f"{path}: forfeiture.exempt_classes must be enabled classes")
    if policy.missed_votes < 1:
        raise PolicyInvalid(f"{path}: forfeiture.missed_votes must be at least 1")
    if policy.window not in WINDOWS:
        raise PolicyInvalid(f"{path}: forfeiture.window must be one of {WINDOWS}")
    if policy.max_open_days < 0:
        raise PolicyInvalid(f"{path}: votes.max_open_days must be 0 (no limit) or more")
    if policy.denominator not in DENOMINATORS:
        raise PolicyInvalid(f"{path}: votes.denominator must be one of {DENOMINATORS}")
    if policy.fellow_threshold not in policy.fellow_allowed_thresholds:
        raise PolicyInvalid(f"{path}: fellow.threshold must be one of fellow.allowed_thresholds")
    if policy.board_method not in METHODS:
        raise PolicyInvalid(f"{path}: board.method must be one of {', '.join(METHODS)}")
