"""The benchmark's population: a realistic roster file, enrolment and ballots in bulk.

The roster is the service's own CSV format with the classes mixed as a real
membership is: mostly Supporting Members, then Contributing, Managing and
Fellows (often more than one class), some Basic-only or lapsed members with no
voting right, and Sponsor Delegates (a ``sponsor:start:end`` class and
``delegate_for``), most of whom also hold an individual right. The mix is
chosen so that ``members`` people hold exactly ``members`` voting rights: the
people with two rights (individual and delegate) balance those with none.

Names carry what real exports carry: accents, commas and ``@`` inside quoted
fields, blank given names.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import random

# Shares of the roster, in percent. NO_RIGHT and TWO_RIGHTS are equal, so the
# number of voting rights equals the number of members.
NO_RIGHT = 4  # Basic-only, or a Supporting membership that lapsed last year
TWO_RIGHTS = 4  # a Sponsor Delegate who is also Supporting, Managing, ...
DELEGATE_ONLY = 1  # a Sponsor Delegate with no individual class

GIVEN = ["Ada", "Jürgen", "María", "Wei", "Olu", "Kai", "Sam (@sam_codes)", "Zoë", "Łukasz", "Priya",
         "", "Ngozi", "Björn", "Chloé", "Hiroshi", "Amélie", "Dmitri", "Fatima", "José", "Ines"]
FAMILY = ["Lovelace", "Müller", "García, PhD", "Chen", "Adeyemi", "Taylor", "O'Brien", "Nguyễn",
          "Kowalski", "Sharma", "Okafor", "Johansson", "Dubois", "Tanaka", "Smith", "Ivanov"]
WORKING_GROUPS = ["Packaging WG", "Code of Conduct WG", "Infrastructure WG", "Grants WG", "Board", "Education WG"]
SPONSORS = [f"Sponsor Org {n}{', Inc.' if n % 3 == 0 else ''}" for n in range(1, 201)]


def roster_csv(members: int, today: dt.date, seed: int = 2026) -> bytes:
    """A roster of ``members`` people in the own CSV format, as UTF-8 bytes."""
    rng = random.Random(seed)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["member_id", "given_name", "family_name", "email", "classes", "working_groups", "delegate_for"])
    for n in range(members):
        classes, groups, delegate_for = _classes(rng, today, n % 100)
        writer.writerow([
            f"M-{n:07d}", rng.choice(GIVEN), rng.choice(FAMILY), f"member{n}@example{n % 97}.org",
            ";".join(classes), ";".join(groups), ";".join(delegate_for),
        ])
    return out.getvalue().encode()


def _classes(rng: random.Random, today: dt.date, slot: int) -> tuple[list[str], list[str], list[str]]:
    """One member's classes, working groups and sponsors; ``slot`` (0-99) fixes the rights they hold."""
    year = dt.timedelta(days=364)
    annual_start = today - dt.timedelta(days=rng.randrange(0, 330))
    supporting = f"supporting:{annual_start}:{annual_start + year}"
    if slot < NO_RIGHT:
        if slot % 2:
            return [f"basic:{today.year - 3}-06-01:"], [], []
        lapsed = dt.date(today.year - 2, 3, 1)
        return [f"supporting:{lapsed}:{lapsed + year}", f"basic:{today.year - 4}-01-01:"], [], []
    if slot < NO_RIGHT + TWO_RIGHTS + DELEGATE_ONLY:
        sponsor_start = today - dt.timedelta(days=rng.randrange(0, 330))
        sponsor = f"sponsor:{sponsor_start}:{sponsor_start + year}"
        if slot < NO_RIGHT + TWO_RIGHTS:
            own = rng.choice([supporting, f"managing:{today.year}-01-01:{today.year}-12-31", "fellow:2012-05-01"])
            return [own, sponsor], [], [rng.choice(SPONSORS)]
        return [sponsor], [], [rng.choice(SPONSORS)]
    roll = rng.random()
    if roll < 0.60:
        classes = [supporting if rng.random() < 0.9 else f"supporting:{today.year - 8}-01-01:"]
    elif roll < 0.78:
        classes = [f"contributing:{today.year}-01-01:{today.year}-12-31"]
    elif roll < 0.90:
        classes = [f"managing:{today.year}-01-01:{today.year}-12-31"]
    else:
        classes = [f"fellow:{2001 + rng.randrange(today.year - 2001)}-0{rng.randrange(1, 10)}-01"]
    if rng.random() < 0.15:  # a second class: a Fellow who also pays, a Managing Member who contributes
        extra = rng.choice([supporting, f"contributing:{today.year}-01-01:", "fellow:2018-07-01", "managing::"])
        if extra.split(":")[0] != classes[0].split(":")[0]:
            classes.append(extra)
    groups = rng.sample(WORKING_GROUPS, rng.randrange(1, 3)) if any(c.startswith("managing") for c in classes) else []
    return classes, groups, []
