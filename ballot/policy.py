"""The organisation's voting rules as data: one TOML file per preset.

Every number and switch that differs between organisations lives in a policy
file under ``config/policies/``; this module only reads and checks it. A period
keeps a copy of the policy it was opened under, so a later change of file never
alters a running year. A copy made before a setting existed reads back with the
seed model's value for it.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import asdict, dataclass, field
from fractions import Fraction
from pathlib import Path

from ballot.counting.methods import METHODS
from ballot.errors import PolicyInvalid
from ballot.roster.records import CLASSES

POLICY_DIR = Path(__file__).resolve().parent.parent / "config" / "policies"
WINDOWS = ("period", "calendar-year")
# What a threshold is a share of, weakest first: yes and no answers; everyone who cast a
# ballot (abstentions count against); everyone entitled to vote (the whole electorate).
DENOMINATORS = ("yes-no", "participating", "electorate")
FELLOW_ELECTORATES = ("fellows", "voting-members")
CANDIDATE_ORDERS = ("random", "rotation", "fixed")  # how each ballot lists a Board election's candidates
# The floors a policy may set (bylaws 14.8): the quorum, and the least requirement per kind of act.
FLOOR_ACTS = ("ordinary", "fellow", "termination", "director-removal", "bylaws-amendment")


@dataclass(frozen=True, order=False)
class Requirement:
    """What a vote needs to pass: ``more than`` (strict) or ``at least`` a share of a denominator."""

    share: Fraction
    strict: bool
    denominator: str

    def at_least_as_strict_as(self, floor: Requirement) -> bool:
        """Whether every result that passes this also passes ``floor`` ("shall not be less than").

        A larger denominator, a larger share, or the same share with "more
        than" instead of "at least", each asks for more.
        """
        if DENOMINATORS.index(self.denominator) < DENOMINATORS.index(floor.denominator):
            return False
        return (self.share, self.strict) >= (floor.share, floor.strict)

    def words(self) -> str:
        return f"{'more than' if self.strict else 'at least'} {self.share} of {DENOMINATOR_WORDS[self.denominator]}"

    @classmethod
    def parse(cls, text: str, denominator: str, what: str) -> Requirement:
        """"more than 1/2", "> 1/2", "at least 2/3", ">= 2/3" or "2/3" (at least) of ``denominator``."""
        match = re.fullmatch(r"\s*(more than|>=|>|at least)?\s*(\S+)\s*", str(text))
        if not match:
            raise PolicyInvalid(f"{what}: {text!r} is not a share such as 'more than 1/2' or 'at least 2/3'")
        share = parse_fraction(match.group(2), what)
        if denominator not in DENOMINATORS:
            raise PolicyInvalid(f"{what}: the denominator must be one of {', '.join(DENOMINATORS)}")
        return cls(share, match.group(1) in ("more than", ">"), denominator)


DENOMINATOR_WORDS = {
    "yes-no": "the yes and no answers (abstentions do not count)",
    "participating": "all who cast a ballot (abstentions count)",
    "electorate": "everyone entitled to vote in it (the whole electorate)",
}


@dataclass(frozen=True)
class Floor:
    """The least a policy lets a kind of act require, and the text that says so."""

    requirement: Requirement
    rule: str  # the section of the organisation's text, e.g. "3.9"
    words: str  # what the section says

    def as_dict(self) -> dict:
        return {"requirement": ("more than " if self.requirement.strict else "at least ") + str(self.requirement.share),
                "of": self.requirement.denominator, "rule": self.rule, "words": self.words}


@dataclass(frozen=True)
class QuorumFloor:
    """The least quorum a policy lets a vote have, and the text that says so."""

    share: Fraction
    rule: str
    words: str

    def as_dict(self) -> dict:
        return {"share": str(self.share), "rule": self.rule, "words": self.words}


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
    # Classes whose holders vote without opting in, and which renamed classes a roster may still use.
    always_voting: tuple[str, ...] = ()
    class_aliases: dict[str, str] = field(default_factory=dict)
    # Classes counted in a quorum's base only if their holders vote.
    quorum_only_if_voting: tuple[str, ...] = ()
    fellow_electorate: str = "fellows"
    fellow_denominator: str = "participating"
    nominees_must_be_members: bool = False
    board_methods: tuple[str, ...] = tuple(METHODS)
    candidate_order: str = "fixed"
    affirmation_waiver: bool = False
    quorum_floor: QuorumFloor | None = None
    floors: dict[str, Floor] = field(default_factory=dict)

    def as_dict(self) -> dict:
        """A JSON-safe copy, kept with each period."""
        d = asdict(self)
        for key, value in d.items():
            if isinstance(value, Fraction):
                d[key] = str(value)
            elif isinstance(value, tuple):
                d[key] = [str(v) if isinstance(v, Fraction) else v for v in value]
        d["quorum_floor"] = self.quorum_floor.as_dict() if self.quorum_floor else None
        d["floors"] = {act: floor.as_dict() for act, floor in self.floors.items()}
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
            always_voting=tuple(d.get("always_voting", ())),
            class_aliases=dict(d.get("class_aliases", {})),
            quorum_only_if_voting=tuple(d.get("quorum_only_if_voting", ())),
            fellow_electorate=d.get("fellow_electorate", "fellows"),
            fellow_denominator=d.get("fellow_denominator", d["denominator"]),
            nominees_must_be_members=bool(d.get("nominees_must_be_members", False)),
            board_methods=tuple(d.get("board_methods", METHODS)),
            candidate_order=d.get("candidate_order", "fixed"),
            affirmation_waiver=bool(d.get("affirmation_waiver", False)),
            quorum_floor=QuorumFloor(Fraction(d["quorum_floor"]["share"]), d["quorum_floor"]["rule"],
                                     d["quorum_floor"]["words"]) if d.get("quorum_floor") else None,
            floors={act: Floor(Requirement.parse(f["requirement"], f["of"], "floor"), f["rule"], f["words"])
                    for act, f in d.get("floors", {}).items()},
        )

    def floor_for(self, act: str) -> Floor | None:
        return self.floors.get(act)


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
        floors = _table(raw, "floors") if "floors" in raw else {}
        denominator = _choice(votes["denominator"], ("yes-no", "participating"), "votes.denominator")
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
            denominator=denominator,
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
            always_voting=_names(classes.get("always_voting", []), "classes.always_voting"),
            class_aliases=_aliases(classes.get("aliases", {})),
            quorum_only_if_voting=_names(votes.get("quorum_only_if_voting", []), "votes.quorum_only_if_voting"),
            fellow_electorate=_choice(fellow.get("electorate", "fellows"), FELLOW_ELECTORATES, "fellow.electorate"),
            fellow_denominator=_choice(fellow.get("denominator", denominator), DENOMINATORS, "fellow.denominator"),
            nominees_must_be_members=_flag(fellow.get("nominees_must_be_members", False),
                                           "fellow.nominees_must_be_members"),
            board_methods=_names(board.get("methods", list(METHODS)), "board.methods"),
            candidate_order=_choice(board.get("candidate_order", "fixed"), CANDIDATE_ORDERS, "board.candidate_order"),
            affirmation_waiver=_flag(raw.get("enrolment", {}).get("affirmation_waiver", False),
                                     "enrolment.affirmation_waiver"),
            quorum_floor=_quorum_floor(floors.get("quorum")),
            floors={act: _act_floor(floors[act], act) for act in FLOOR_ACTS if act in floors},
        )
    except KeyError as exc:
        raise PolicyInvalid(f"{path}: missing setting {exc.args[0]}") from None
    except PolicyInvalid as exc:
        raise PolicyInvalid(f"{path}: {exc}") from None
    unknown = set(floors) - {"quorum", *FLOOR_ACTS}
    if unknown:
        raise PolicyInvalid(f"{path}: unknown floors {sorted(unknown)}; known: quorum, {', '.join(FLOOR_ACTS)}")
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


def _choice(value, choices: tuple[str, ...], what: str) -> str:
    if value not in choices:
        raise PolicyInvalid(f"{what} must be one of {', '.join(choices)} (not {value!r})")
    return value


def _aliases(value) -> dict[str, str]:
    if not isinstance(value, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
        raise PolicyInvalid("classes.aliases must map old class names to current ones, "
                            'such as {managing = "contributing"}')
    return dict(value)


def _words(value: dict, what: str) -> tuple[str, str]:
    rule, words = value.get("rule"), value.get("words")
    if not isinstance(rule, str) or not isinstance(words, str) or not rule or not words:
        raise PolicyInvalid(f"{what} needs the section it comes from (rule) and its words (words)")
    return rule, words


def _quorum_floor(value) -> QuorumFloor | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise PolicyInvalid("floors.quorum must be a table: share, rule, words")
    rule, words = _words(value, "floors.quorum")
    return QuorumFloor(parse_fraction(str(value.get("share", "")), "floors.quorum.share"), rule, words)


def _act_floor(value, act: str) -> Floor:
    if not isinstance(value, dict):
        raise PolicyInvalid(f"floors.{act} must be a table: requirement, of, rule, words")
    rule, words = _words(value, f"floors.{act}")
    return Floor(Requirement.parse(value.get("requirement", ""), value.get("of", ""), f"floors.{act}"), rule, words)


def _check(policy: Policy, path: Path) -> None:
    unknown = set(policy.enabled_classes) - set(CLASSES)
    if unknown:
        raise PolicyInvalid(f"{path}: unknown classes {sorted(unknown)}")
    if not set(policy.individual_classes) <= set(policy.enabled_classes):
        raise PolicyInvalid(f"{path}: classes.individual must be enabled classes")
    if not set(policy.exempt_classes) <= set(policy.enabled_classes):
        raise PolicyInvalid(f"{path}: forfeiture.exempt_classes must be enabled classes")
    if not set(policy.always_voting) <= set(policy.individual_classes):
        raise PolicyInvalid(f"{path}: classes.always_voting must be classes that give an individual right")
    if not set(policy.quorum_only_if_voting) <= set(policy.individual_classes):
        raise PolicyInvalid(f"{path}: votes.quorum_only_if_voting must be classes that give an individual right")
    for old, new in policy.class_aliases.items():
        if old not in CLASSES or new not in policy.enabled_classes or old in policy.enabled_classes:
            raise PolicyInvalid(f"{path}: classes.aliases maps {old!r} to {new!r}; it must map a class this "
                                "organisation no longer has to one it has")
    if policy.missed_votes < 1:
        raise PolicyInvalid(f"{path}: forfeiture.missed_votes must be at least 1")
    if policy.window not in WINDOWS:
        raise PolicyInvalid(f"{path}: forfeiture.window must be one of {WINDOWS}")
    if policy.max_open_days < 0:
        raise PolicyInvalid(f"{path}: votes.max_open_days must be 0 (no limit) or more")
    if policy.fellow_threshold not in policy.fellow_allowed_thresholds:
        raise PolicyInvalid(f"{path}: fellow.threshold must be one of fellow.allowed_thresholds")
    if not policy.board_methods or set(policy.board_methods) - set(METHODS):
        raise PolicyInvalid(f"{path}: board.methods must name methods among {', '.join(METHODS)}")
    if policy.board_method not in policy.board_methods:
        raise PolicyInvalid(f"{path}: board.method must be one of {', '.join(policy.board_methods)} (board.methods)")
    if policy.quorum_floor and policy.quorum < policy.quorum_floor.share:
        raise PolicyInvalid(f"{path}: votes.quorum is below its floor ({policy.quorum_floor.share})")
