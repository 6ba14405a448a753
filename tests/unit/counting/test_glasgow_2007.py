"""Scottish STV cross-checked against Glasgow City Council's 2007 ward counts.

Source: the Droop counting program, https://github.com/jklundell/droop
(GPL-3.0; the ballot data are Glasgow City Council's published 2007 ballot
records), files ``test/blt/scotland/<Ward>-2007.blt`` (the ballots) and
``test/ref/dump/scotland/<Ward>-2007-scotland-fixed-p5-d5.txt`` (Droop's
stage-by-stage count under SSI 2007/42). The figures below are copied from
those reference counts: the councillors elected in each of the 21 wards, and
for four wards the quota, the number of stages, and every candidate's votes
and the non-transferable total after the second and the last stage. Droop
collapses runs of spaces in names ("Ellen   Hurcombe" is "Ellen Hurcombe"),
so names are compared that way.

The ballot files themselves are not kept in this repository (see
``tests/data/counting/README.md``): the tests read them from the directory
named by ``BALLOT_COUNTING_DATA``, or else ``shared/data/counting`` beside the
repository, and are skipped, saying so, when the files are not there.
"""

import os
from fractions import Fraction
from pathlib import Path

import pytest

from ballot.counting.blt import parse_blt
from ballot.counting.stv import StvResult, count_scottish

DATA = Path(
    os.environ.get("BALLOT_COUNTING_DATA")
    or Path(__file__).resolve().parents[3].parent / "shared" / "data" / "counting"
) / "glasgow-2007"

ELECTED = {
    'Anderston-City-2007': ['Craig MacKay', 'Philip Braat', 'Nina Baker', 'Gordon Matheson'],
    'Baillieston-2007': ['John Mason', 'Jim Coleman', 'Douglas Hay', 'David McDonald'],
    'Calton-2007': ['George Redmond', 'Alison E Thewliss', 'Ruth Simpson'],
    'Canal-2007': ['Billy McAllister', 'Ellen Hurcombe', 'Jim MacKechnie', 'Kieran Wild'],
    'Craigton-2007': ['Iris Gibson', 'Alistair Watson', 'Ruth Black', 'Matthew John Kerr'],
    'Drumchapel-Anniesland-2007': ['Paul Carey', 'Bill Kidd', 'Steven Purcell', 'Jonathan Findlay'],
    'East-Centre-2007': ['Jennifer Dunn', 'Patricia Chalmers', 'Frank Docherty', 'Elaine McDougall'],
    'Garscadden-Scotsounhill-2007': ['Liz Cameron', 'Graeme Hendry', 'Paul Rooney', 'Jean McFadden'],
    'Govan-2007': ['Allison Hunter', 'Shaukat Butt', 'Stephen Dornan', 'John Flanagan'],
    'Greater-Pollock-2007': ['Patricia Duffy', 'Alex Glass', 'Tommy Morrison', "William O'Rourke"],
    'Hillhead-2007': ['George A Roberts', 'Martha Ferguson Wardrop', 'Kenneth Elder', 'Hanzala Malik'],
    'Langside-2007': ['James Dornan', 'Archie Graham', 'Paul Coleshill'],
    'Linn-2007': ['David Ritchie', 'Sadie Docherty', 'Margot Clark', 'John McKenzie'],
    'Maryhill-Kelvin-2007': ['Alex Dingwall', 'Robert Winter', 'Mary Paris', 'Mohammed Razaq'],
    'Newlands-Auldburn-2007': ['Colin Deans', 'Stephen Curran', 'Jim McNally'],
    'North-East-2007': ['Gilbert Davidson', 'Grant R Thoms', 'Gerald Leonard', 'Catherine McMaster'],
    'Partick-West-2007': ['Kenny McLean', 'Christopher Mason', 'Stuart Clay', 'Aileen Colleran'],
    'Pollokshields-2007': ['Irfan Rabbani', 'Khalil Malik', 'David Meikle'],
    'Shettleston-2007': ['John F McLaughlin', 'Tom McKeown', 'Euan McLeod', 'George Ryan'],
    'Southside-Central-2007': ['Jahangir Hanif', 'Anne Marie Millar', 'James Scanlon', 'Danny Alderslowe'],
    'Springburn-2007': ['Allan Stewart', 'James Todd', 'Phil Greene'],
}
STAGES = {
    'Calton-2007': {
        "quota": 1300,
        "stages": 10,
        'stage_2': ('158.62549', {
            'Gary Barton': '130.40863',
            'Alasdair Duke - Wardrop': '224.84953',
            'Fiacra Fullerton': '325.39812',
            'Scott Gillespie': '250.84953',
            'Paul Graham': '245.79587',
            'Danny Houston': '217.36585',
            'Kenny Murray': '134.94634',
            'George Redmond': '1300.00000',
            'Ruth Simpson': '1035.05847',
            'Alison E Thewliss': '1175.68855',
        }),
        'last': ('1205.10743', {
            'George Redmond': '1300.00000',
            'Ruth Simpson': '1393.86735',
            'Alison E Thewliss': '1300.00000',
        }),
    },
    'Springburn-2007': {
        "quota": 1353,
        "stages": 5,
        'stage_2': ('82.89372', {
            'Margaret Bean': '139.78233',
            'Graham Campbell': '351.75288',
            'Graeme Dickson': '176.41595',
            'Phil Greene': '1327.09987',
            'Patrick McAleer': '140.14871',
            'Robert G C Sawers': '86.82184',
            'Kenny Smith': '137.50503',
            'Allan Stewart': '1353.00000',
            'John H Stuart': '176.88147',
            'James Todd': '1437.68116',
        }),
        'last': ('205.38908', {
            'Graham Campbell': '410.14226',
            'Graeme Dickson': '209.51745',
            'Phil Greene': '1374.08557',
            'Patrick McAleer': '162.73399',
            'Kenny Smith': '154.90285',
            'Allan Stewart': '1353.00000',
            'John H Stuart': '187.20642',
            'James Todd': '1353.00000',
        }),
    },
    'Langside-2007': {
        "quota": 2334,
        "stages": 8,
        'stage_2': ('48.22738', {
            'Paul Coleshill': '1243.37552',
            'James Dornan': '2334.00000',
            'Martin Frain': '492.41814',
            'Archie Graham': '2241.15678',
            'Margaret McCafferty': '859.41044',
            'Neil Sloan McDonald': '924.61754',
            'Russell Munn': '1003.43560',
            'James Nesbitt': '187.34848',
        }),
        'last': ('1982.43662', {
            'Paul Coleshill': '2683.52730',
            'James Dornan': '2334.00000',
            'Archie Graham': '2334.00000',
        }),
    },
    'Canal-2007': {
        "quota": 1725,
        "stages": 10,
        'stage_2': ('306.62168', {
            'Brian Brown': '214.65496',
            'James Cruickshank': '119.10720',
            'Norman Fraser': '651.65104',
            'Ellen Hurcombe': '1961.00000',
            'David E Ledgerwood': '358.71344',
            'Jim MacKechnie': '1118.39568',
            'Haleema Malik': '608.50096',
            'Billy McAllister': '1725.00000',
            'Angela McCormick': '544.25920',
            'Kirsteen Redpath': '222.38984',
            'Kieran Wild': '793.69976',
        }),
        'last': ('1762.68058', {
            'Ellen Hurcombe': '1725.00000',
            'Jim MacKechnie': '1876.32130',
            'Billy McAllister': '1725.00000',
            'Kieran Wild': '1534.97862',
        }),
    },
}


def _count(ward: str) -> StvResult:
    path = DATA / f"{ward}.blt"
    if not path.is_file():
        pytest.skip(f"Glasgow 2007 ballot file {path} is not present (see tests/data/counting/README.md)")
    election = parse_blt(path.read_text(encoding="utf-8"))
    return count_scottish(
        election.candidates, election.ballots, election.seats, withdrawn=election.withdrawn
    )


def _plain(name: str) -> str:
    return " ".join(name.split())


@pytest.mark.parametrize("ward", sorted(ELECTED))
def test_elects_the_councillors_droop_elects(ward: str) -> None:
    result = _count(ward)
    assert {_plain(name) for name in result.elected} == set(ELECTED[ward])


@pytest.mark.parametrize("ward", sorted(STAGES))
def test_every_figure_matches_droops_count(ward: str) -> None:
    result = _count(ward)
    expected = STAGES[ward]
    assert result.quota == expected["quota"]
    assert len(result.rounds) == expected["stages"]
    for stage, label in ((result.rounds[1], "stage_2"), (result.rounds[-1], "last")):
        non_transferable, votes = expected[label]
        assert stage.non_transferable == Fraction(non_transferable)
        mine = {_plain(name): v for name, v in stage.votes.items() if v}
        assert mine == {name: Fraction(v) for name, v in votes.items()}
