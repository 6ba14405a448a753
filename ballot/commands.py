"""The administrators' command line: thin shells over the services.

Each command is one unit of work (``ballot.unit_of_work``), run on behalf of
``cli:<user>``: it commits when the command has succeeded and only then
prints what it did. Every command takes ``--json`` for scripting. A failure
the user can act on prints ``error: ...`` (or ``{"error": ...}``) and exits
with status 1, and nothing is written.
"""

from __future__ import annotations

import datetime as dt
import functools
import getpass
import json
import sys
from dataclasses import dataclass
from pathlib import Path

import click
from flask import Flask, current_app

from ballot import worker as worker_runner
from ballot.admin.uploads import purge_expired_uploads
from ballot.counting.methods import METHODS
from ballot.eligibility import rules as eligibility_rules
from ballot.eligibility import services as eligibility
from ballot.errors import BallotError, InvalidInput
from ballot.outbox import services as outbox
from ballot.outbox import tasks as mail_tasks
from ballot.policy import CANDIDATE_ORDERS, DENOMINATORS, load_policy
from ballot.roster import services as roster
from ballot.timestamps import utcnow
from ballot.trustees import keys as trustee_keys
from ballot.unit_of_work import unit_of_work
from ballot.votes import custody, lifecycle, links, queries, waiver
from ballot.votes import rules as vote_rules
from ballot.votes import tasks as vote_tasks
from ballot.votes.models import CLOSING, DRAFT, OPEN

json_option = click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")


def cli_actor() -> str:
    """Who runs a command, for the audit log: the operating-system user."""
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli"


@dataclass(frozen=True)
class Output:
    """What a command did: JSON data for --json, and the same in words."""

    data: object
    text: str


def _fail(exc: BallotError, as_json: bool):
    if as_json:
        click.echo(json.dumps({"error": str(exc)}))
    else:
        click.echo(f"error: {exc}", err=True)
    sys.exit(1)


def _print(output: Output | None, as_json: bool) -> None:
    if output is not None:
        click.echo(json.dumps(output.data, indent=2, default=str) if as_json else output.text)


def in_unit_of_work(func):
    """Run a command as one unit of work; print what it returns once committed, or the error."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        as_json = kwargs.get("as_json", False)
        try:
            with unit_of_work(cli_actor()):
                output = func(*args, **kwargs)
        except BallotError as exc:
            _fail(exc, as_json)
        _print(output, as_json)

    return wrapper


def handles_errors(func):
    """For commands that open their own units of work (the worker, sending mail): errors as above."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        as_json = kwargs.get("as_json", False)
        try:
            output = func(*args, **kwargs)
        except BallotError as exc:
            _fail(exc, as_json)
        _print(output, as_json)

    return wrapper


def parse_when(value: str) -> dt.datetime:
    try:
        when = dt.datetime.fromisoformat(value)
    except ValueError:
        raise InvalidInput(f"{value!r} is not a date and time such as 2026-12-01T18:00Z") from None
    if when.tzinfo is None:
        raise InvalidInput(f"{value!r} has no time zone; add Z or +00:00")
    return when.astimezone(dt.UTC)


# Periods -----------------------------------------------------------------------

period = click.Group("period", help="Eligibility periods: open, opt-in, enrolment.")


@period.command("open")
@click.argument("year", type=int)
@click.option("--policy", "policy_name", default=None, help="Policy preset or TOML file (default: BALLOT_POLICY).")
@json_option
@in_unit_of_work
def period_open(year, policy_name, as_json):
    """Open the eligibility period for YEAR."""
    policy = load_policy(policy_name or current_app.config["BALLOT_POLICY"])
    p = eligibility.open_period(year, policy)
    return Output({"year": p.year, "policy": p.policy}, f"Opened the {year} period under {policy.title}.")


@period.command("send-opt-in")
@click.argument("year", type=int)
@click.option("--resend", is_flag=True, help="Also send again to those already asked.")
@json_option
@in_unit_of_work
def period_send_opt_in(year, resend, as_json):
    """Queue the opt-in message to every voting-eligible right not yet enrolled."""
    count = eligibility.send_opt_in(eligibility.get_period(year), resend=resend)
    return Output({"queued": count}, f"Queued {count} opt-in messages; `ballot mail send` sends them.")


@period.command("close-enrolment")
@click.argument("year", type=int)
@json_option
@in_unit_of_work
def period_close_enrolment(year, as_json):
    """Close the enrolment window: later opt-ins are refused."""
    eligibility.close_enrolment(eligibility.get_period(year))
    return Output({"year": year, "enrolment": "closed"}, f"Enrolment for {year} is closed.")


@period.command("waive-affirmation")
@click.argument("year", type=int)
@click.option("--dry-run", is_flag=True, help="Show who would be enrolled; change nothing.")
@json_option
@in_unit_of_work
def period_waive_affirmation(year, dry_run, as_json):
    """Enrol, without opting in, those who voted in the most recent regular Board election (bylaws 4.2)."""
    p = eligibility.get_period(year)
    result = waiver.plan(p) if dry_run else waiver.apply(p)
    election = result.election
    data = {"year": year, "dry_run": dry_run, "election": election.id if election else None,
            "voters": result.voters, "on_roster": result.found, "enrolled": len(result.right_ids)}
    if election is None:
        return Output(data, f"No regular Board election before {year} was decided: the waiver would enrol no one.")
    verb = "Would enrol" if dry_run else "Enrolled"
    return Output(data, f"{verb} {len(result.right_ids)} voting rights by the affirmation waiver: "
                        f"{result.voters} members voted in vote {election.id} ({election.title}, closed "
                        f"{election.closed_at:%Y-%m-%d}), {result.found} of them on the {year} roster; "
                        "rights already enrolled or voting without opting in are left as they are.")


@period.command("enrolled")
@click.argument("year", type=int)
@json_option
@in_unit_of_work
def period_enrolled(year, as_json):
    """List who can vote now: the enrolled rights (and those that vote without opting in), forfeited ones marked."""
    rows = eligibility.export_voting_members(eligibility.get_period(year))
    forfeited = sum(1 for r in rows if r.forfeited)
    lines = [f"{len(rows) - forfeited} voting rights can vote in {year}"
             + (f"; {forfeited} more forfeited their privileges" if forfeited else "") + ":"] + [
        f"  {r.name} <{r.email}> {r.capacity}{' of ' + r.sponsor if r.sponsor else ''}, "
        f"{eligibility.HOW_WORDS[r.how]}{' (forfeited)' if r.forfeited else ''}"
        for r in rows
    ]
    return Output([r.as_dict() for r in rows], "\n".join(lines))


@period.command("at-risk")
@click.argument("year", type=int)
@json_option
@in_unit_of_work
def period_at_risk(year, as_json):
    """Who has missed votes: per right, how many, who is near the limit and who forfeited (participation only)."""
    p = eligibility.get_period(year)
    rows = eligibility.at_risk(p)
    until = eligibility_rules.forfeiture_until(eligibility.policy_of(p))
    counts = {standing: sum(1 for r in rows if r.standing == standing)
              for standing in (eligibility.FORFEITED, eligibility.NEAR, eligibility.MISSED, eligibility.EXEMPT)}
    head = (f"{len(rows)} voting rights in {year} have missed votes that count: {counts[eligibility.FORFEITED]} "
            f"forfeited, {counts[eligibility.NEAR]} one missed vote from the limit, {counts[eligibility.MISSED]} "
            f"below it, {counts[eligibility.EXEMPT]} exempt." if rows else f"Nobody in {year} has missed a vote.")
    lines = [f"  {r.name} <{r.email}> {r.capacity}{' of ' + r.sponsor if r.sponsor else ''}: missed {r.missed} of "
             f"{r.limit}; {eligibility.STANDING_WORDS[r.standing].format(until=until)}" for r in rows]
    return Output([r.as_dict() for r in rows], "\n".join([head, *lines]))


@period.command("show")
@click.argument("year", type=int)
@json_option
@in_unit_of_work
def period_show(year, as_json):
    """Summarise a period: rights, enrolment, imports."""
    p = eligibility.get_period(year)
    counts = eligibility.enrolment_counts(p)
    history = roster.import_history(p.id)
    data = {
        "year": p.year, "policy": p.policy["name"], "opened_at": p.opened_at.isoformat(),
        "enrolment_closed_at": p.enrolment_closed_at.isoformat() if p.enrolment_closed_at else None,
        "rights": counts.rights, "qualifying": counts.qualifying, "can_vote": counts.can_vote,
        "enrolled": counts.enrolled_by_link + counts.enrolled_from_roster + counts.enrolled_by_waiver,
        "always_voting": counts.always_voting, "forfeited": counts.forfeited,
        "imports": [
            {"at": i.imported_at.isoformat(), "file": i.filename, "format": i.format, "members": i.members,
             "added": i.added, "changed": i.changed, "removed": i.removed}
            for i in history
        ],
    }
    text = (
        f"{year} ({p.policy['title']}): {counts.rights} voting rights, {counts.can_vote} can vote now "
        f"({data['enrolled']} enrolled, {counts.always_voting} without opting in), {counts.forfeited} forfeited; "
        f"enrolment {'closed' if p.enrolment_closed_at else 'open'}.\n"
        + "\n".join(f"  import {i['at']} {i['file']} ({i['format']}): {i['members']} members, +{i['added']} "
                    f"~{i['changed']} -{i['removed']}" for i in data["imports"])
    )
    return Output(data, text)


# Roster ------------------------------------------------------------------------

roster_group = click.Group("roster", help="Import the membership roster.")


@roster_group.command("import")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--period", "year", type=int, required=True, help="The eligibility period's year.")
@click.option("--dry-run", is_flag=True, help="Check the file and show the changes; write nothing.")
@json_option
@in_unit_of_work
def roster_import(path, year, dry_run, as_json):
    """Import a roster file (CSV or JSON; own, python.org or CiviCRM format, detected)."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InvalidInput(f"cannot read {path}: {exc.strerror}") from None
    p = eligibility.get_period(year)
    policy = eligibility.policy_of(p)
    report = eligibility.import_roster(p, data, path.name, dry_run=dry_run)
    verb = "Would import" if dry_run else "Imported"
    text = (
        f"{verb} {report.members} members ({report.format}): {len(report.added)} added, "
        f"{len(report.changed)} changed, {len(report.removed)} removed"
        + ("" if dry_run else f"; {report.rights_added} new voting rights, "
                              f"{report.enrolled_from_roster} enrolled from the export's opt-ins")
        + "."
        + (f"\nIt would give {report.rights_gained} voting rights that did not qualify before, and take "
           f"{report.rights_lost} away." if dry_run else "")
        + "".join(f"\n  {c.change} {c.name} <{c.email}>"
                  + (f": {', '.join(c.fields)}" if c.fields else "")
                  + (f"; gains {', '.join(c.rights_gained)}" if c.rights_gained else "")
                  + (f"; loses {', '.join(c.rights_lost)}" if c.rights_lost else "")
                  for c in report.member_changes[:50] if dry_run)
        + (f"\n  and {len(report.member_changes) - 50} more (--json lists them all)."
           if dry_run and len(report.member_changes) > 50 else "")
        + "".join(f"\n{count} members' class {name!r} read as {policy.class_aliases[name]!r} ({policy.title})."
                  for name, count in report.aliased.items())
        + (f"\n{len(report.rekeyed)} members matched to the earlier import's by email: the file keys members "
           "differently, and their rights and enrolments are kept." if report.rekeyed else "")
    )
    return Output(report.as_dict(), text)


# Votes -------------------------------------------------------------------------

vote = click.Group("vote", help="Create, open, close, cancel and publish votes.")


def vote_summary(v) -> dict:
    return {
        "id": v.id, "kind": v.kind, "title": v.title, "status": v.status, "shown_status": v.shown_status(),
        "closes_at": v.closes_at.isoformat(),
        "opens_at": v.opens_at.isoformat() if v.opens_at else None,
        "electorate": v.electorate_size, "questions": v.questions, "rules": v.rules,
        "cancel_reason": v.cancel_reason,
    }


@vote.command("create")
@click.option("--period", "year", type=int, required=True)
@click.option("--kind", type=click.Choice(list(vote_rules.KINDS)), required=True)
@click.option("--title", required=True)
@click.option("--description", default="")
@click.option("--closes-at", required=True, help="ISO date and time with zone, e.g. 2026-12-01T18:00Z.")
@click.option("--question", "questions", multiple=True,
              help="A question, or a Fellow nominee (repeat for a batch; a member id or email where the policy "
                   "allows only members).")
@click.option("--candidate", "candidates", multiple=True, help="A Board candidate (repeat).")
@click.option("--seats", type=int, help="Board: seats to fill.")
@click.option("--method", type=click.Choice(list(METHODS)), help="Board: election method (default: the policy's).")
@click.option("--election", type=click.Choice(vote_rules.ELECTIONS),
              help="Board: a regular (default) or special election.")
@click.option("--candidate-order", type=click.Choice(CANDIDATE_ORDERS),
              help="Board: how each ballot lists the candidates (default: the policy's).")
@click.option("--max-approvals", type=int, help="Board: most candidates one ballot may approve.")
@click.option("--affiliation", "affiliations", multiple=True,
              help="Board, Fellow: NAME=ORGANISATION[;ORGANISATION...], a candidate's or nominee's "
                   "affiliations (repeat).")
@click.option("--statement", "statements", multiple=True,
              help="Board candidates, Fellow nominees: NAME=URL, the link to their statement (repeat).")
@click.option("--board-size", type=int, help="Board: directors in all, the seats filled now and those staying on.")
@click.option("--continuing", multiple=True,
              help="Board: one per director staying on: their affiliations, ';'-separated, or '-' for none.")
@click.option("--threshold", help="What passes: 'at least 2/3', 'more than 1/2', or a share such as 3/4 (at least).")
@click.option("--denominator", type=click.Choice(DENOMINATORS),
              help="What the threshold is a share of: yes-no, participating, or the whole electorate.")
@click.option("--quorum", help="Share of the electorate that must vote, e.g. 1/3.")
@click.option("--electorate", type=click.Choice(["fellows", "voting-members", "group"]),
              help="Fellow votes: who approves (default: the policy's).")
@click.option("--group-name", help="Fellow votes by a group: its name, e.g. 'the Board of Directors'.")
@click.option("--group-member", "group_members", multiple=True,
              help="Fellow votes by a group: a member (member id or email; repeat).")
@click.option("--managing-years", type=int, help="Fellow votes: include Managing Members of this many years.")
@json_option
@in_unit_of_work
def vote_create(year, kind, title, description, closes_at, questions, candidates, seats, method, election,
                candidate_order, max_approvals, affiliations, statements, board_size, continuing, threshold,
                denominator, quorum, electorate, group_name, group_members, managing_years, as_json):
    """Create a draft vote."""
    group = {"name": group_name or "", "members": list(group_members)} if group_name or group_members else None
    v = lifecycle.create_vote(
        eligibility.get_period(year), kind, title, parse_when(closes_at), description=description,
        questions=list(questions), candidates=list(candidates), statements=vote_rules.parse_statements(statements),
        seats=seats, threshold=threshold,
        denominator=denominator, quorum=quorum, managing_years=managing_years, max_approvals=max_approvals,
        affiliations=vote_rules.parse_affiliations(affiliations), board_size=board_size,
        continuing=vote_rules.parse_continuing(continuing) if continuing else None, method=method,
        election=election, candidate_order=candidate_order, electorate=electorate, group=group,
    )
    return Output(vote_summary(v), f"Created draft vote {v.id}: {v.title}.\n" + "\n".join(vote_rules.describe(v.rules)))


@vote.command("edit")
@click.argument("vote_id", type=int)
@click.option("--title")
@click.option("--description")
@click.option("--closes-at", help="ISO date and time with zone, e.g. 2026-12-01T18:00Z.")
@click.option("--question", "questions", multiple=True, help="Replaces every question or nominee (repeat).")
@click.option("--candidate", "candidates", multiple=True, help="Board: replaces every candidate (repeat).")
@click.option("--seats", type=int)
@click.option("--method", type=click.Choice(list(METHODS)))
@click.option("--election", type=click.Choice(vote_rules.ELECTIONS))
@click.option("--candidate-order", type=click.Choice(CANDIDATE_ORDERS))
@click.option("--max-approvals", type=int)
@click.option("--affiliation", "affiliations", multiple=True, help="Replaces every candidate's affiliations.")
@click.option("--board-size", type=int)
@click.option("--continuing", multiple=True, help="Replaces the continuing directors.")
@click.option("--threshold")
@click.option("--denominator", type=click.Choice(DENOMINATORS))
@click.option("--quorum")
@click.option("--electorate", type=click.Choice(["fellows", "voting-members", "group"]))
@click.option("--group-name")
@click.option("--group-member", "group_members", multiple=True, help="Replaces the group's members.")
@click.option("--managing-years", type=int)
@json_option
@in_unit_of_work
def vote_edit(vote_id, title, description, closes_at, questions, candidates, seats, method, election,
              candidate_order, max_approvals, affiliations, board_size, continuing, threshold, denominator, quorum,
              electorate, group_name, group_members, managing_years, as_json):
    """Change a draft before it opens: what is given replaces what it had; its rules are checked again."""
    v = queries.get_vote(vote_id)
    given = {"seats": seats, "method": method, "election": election, "candidate_order": candidate_order,
             "max_approvals": max_approvals, "board_size": board_size, "threshold": threshold,
             "denominator": denominator, "quorum": quorum, "electorate": electorate,
             "managing_years": managing_years}
    options = {name: value for name, value in given.items() if value is not None}
    if affiliations:
        options["affiliations"] = vote_rules.parse_affiliations(affiliations)
    if continuing:
        options["continuing"] = vote_rules.parse_continuing(continuing)
    if group_name or group_members:
        group = v.rules.get("group") or {"name": "", "members": []}
        options["group"] = {"name": group_name or group["name"],
                            "members": list(group_members) or group["members"]}
    changed = lifecycle.edit_draft(
        v, title=title, description=description, closes_at=parse_when(closes_at) if closes_at else None,
        questions=list(questions) or None, candidates=list(candidates) or None, **options)
    text = (f"Vote {vote_id} changed: {', '.join(changed)}.\n" if changed else f"Vote {vote_id}: nothing changed.\n")
    return Output(vote_summary(v) | {"changed": changed}, text + "\n".join(vote_rules.describe(v.rules)))


@vote.command("open")
@click.argument("vote_id", type=int)
@json_option
@in_unit_of_work
def vote_open(vote_id, as_json):
    """Open a vote: freeze its electorate and queue the ballot links."""
    size = lifecycle.open_vote(queries.get_vote(vote_id))
    return Output({"id": vote_id, "electorate": size, "links_queued": size},
                  f"Vote {vote_id} is open; {size} ballot links are queued in the outbox, one to each voting right "
                  "by email: `ballot worker` sends them in its next round, or `ballot mail send` now.")


@vote.command("schedule")
@click.argument("vote_id", type=int)
@click.option("--opens-at", help="When the worker opens the draft (ISO date and time with zone).")
@click.option("--clear", is_flag=True, help="Drop the scheduled opening.")
@json_option
@in_unit_of_work
def vote_schedule(vote_id, opens_at, clear, as_json):
    """Have `ballot worker` open a draft vote at a given time."""
    if bool(opens_at) == clear:
        raise InvalidInput("give either --opens-at WHEN or --clear")
    when = None if clear else parse_when(opens_at)
    lifecycle.schedule_opening(queries.get_vote(vote_id), when)
    return Output({"id": vote_id, "opens_at": when.isoformat() if when else None},
                  f"Vote {vote_id} opens at {when:%Y-%m-%d %H:%M} UTC." if when
                  else f"Vote {vote_id} has no scheduled opening.")


@vote.command("close")
@click.argument("vote_id", type=int)
@click.option("--dry-run", is_flag=True, help="Only say what closing now would do: missed votes, forfeitures.")
@json_option
@in_unit_of_work
def vote_close(vote_id, dry_run, as_json):
    """Close a vote now and record missed votes; count it, or, with trustees, wait for their answers.
    Says first what closing does (who has not voted, who forfeits, whether it is early)."""
    v = queries.get_vote(vote_id)
    now = utcnow()
    if v.status != OPEN:
        lifecycle.close_vote(v, now)  # refused, saying why
    before = queries.consequences(v, now)
    if dry_run:
        return Output(before.as_dict() | {"dry_run": True},
                      f"Closing vote {vote_id} now would do this (nothing is changed):\n"
                      + "\n".join(before.closing_lines(now)))
    summary = lifecycle.close_vote(v, now)
    said = [before.early_words(now)] if before.early else []
    if summary["missed"]:
        said.append(f"{summary['missed']} voting rights had not voted: each got a missed vote; "
                    f"{summary['forfeited']} lost their voting rights until {before.until}.")
    summary |= {"early": before.early, "scheduled": before.closes_at.isoformat()}
    if summary["status"] == "counting":
        return Output(summary, (
            f"Vote {vote_id} closed: casting has stopped; {summary['missed']} missed, {summary['forfeited']} rights "
            f"forfeited.\n" + "".join(line + "\n" for line in said)
            + f"It waits for {summary['trustees_needed']} of its {summary['trustees']} trustees. Give each "
            f"their request (`ballot vote trustee-request {vote_id} --trustee FINGERPRINT -o FILE`) and take their "
            f"answers with `ballot vote trustee-answer {vote_id} FILE`.\n"
            f"Collection key of this close (trustees compare it): {summary['collection_key']}"))
    return Output(summary, f"Vote {vote_id} closed: {summary['ballots']} ballots, {summary['missed']} missed, "
                           f"{summary['forfeited']} rights forfeited.\n" + "".join(line + "\n" for line in said)
                  + _result_text(summary["result"]))


@vote.command("trustees")
@click.argument("vote_id", type=int)
@click.option("--trustee", "fingerprints", multiple=True,
              help="A trustee's key fingerprint, as `ballot trustee list` shows it (repeat, in order).")
@click.option("--threshold", type=int, help="How many of them must answer after the close for it to be counted.")
@click.option("--none", "no_trustees", is_flag=True, help="No trustees: the installation's sealing key protects it.")
@click.option("--confirm", "confirmed", is_flag=True,
              help="You have checked with the trustees that enough of them will be reachable after the close.")
@json_option
@in_unit_of_work
def vote_trustees(vote_id, fingerprints, threshold, no_trustees, confirmed, as_json):
    """Name a draft vote's trustees and how many of them must answer for it to be counted.

    Losing trustees can make a vote impossible to count: the command states what
    losing them means for these k of n, and names them only with --confirm.
    """
    if bool(fingerprints) == no_trustees:
        raise InvalidInput("give the trustees (--trustee FINGERPRINT, repeated, and --threshold K) or --none")
    v = queries.get_vote(vote_id)
    rows = custody.set_trustees(v, list(fingerprints), threshold)
    if rows and v.trustee_threshold is not None and not confirmed:
        raise InvalidInput(custody.losing_trustees_warning(v.trustee_threshold, len(rows)) + " Check with the "
                           "trustees that enough of them will be reachable, then run this again with --confirm.")
    data = {"id": vote_id, "threshold": v.trustee_threshold,
            "trustees": [{"index": r.position, "name": r.trustee.name, "fingerprint": r.fingerprint} for r in rows]}
    if not rows or v.trustee_threshold is None:
        return Output(data, f"Vote {vote_id} has no trustees: the installation's sealing key will protect it.")
    return Output(data, "\n".join(
        [f"Vote {vote_id} will be held by {v.trustee_threshold} of these {len(rows)} trustees:"]
        + [f"  #{r.position} {r.trustee.name}: {r.fingerprint}" for r in rows]
        + [custody.losing_trustees_warning(v.trustee_threshold, len(rows))]))


@vote.command("trustee-request")
@click.argument("vote_id", type=int)
@click.option("--trustee", "fingerprint", required=True, help="The trustee's key fingerprint.")
@click.option("-o", "--output", "out", type=click.Path(dir_okay=False, path_type=Path), required=True)
@json_option
@in_unit_of_work
def vote_trustee_request(vote_id, fingerprint, out, as_json):
    """Write a trustee's request for their share of a closed vote's key (for `ballot trustee answer`)."""
    request = custody.close_request(queries.get_vote(vote_id), fingerprint)
    try:
        with out.open("x", encoding="utf-8") as file:
            file.write(request.to_json())
    except FileExistsError:
        raise InvalidInput(f"{out} exists already; it was kept (choose another name)") from None
    collection_key = trustee_keys.fingerprint(request.collection_key)
    return Output({"id": vote_id, "trustee": request.fingerprint, "index": request.index, "file": str(out),
                   "collection_key": collection_key},
                  f"Wrote trustee #{request.index}'s request ({request.fingerprint}) to {out}.\n"
                  f"Collection key of this close (the trustee compares it): {collection_key}")


@vote.command("trustee-answer")
@click.argument("vote_id", type=int)
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@json_option
@in_unit_of_work
def vote_trustee_answer(vote_id, path, as_json):
    """Take a trustee's answer to a closed vote; with enough answers, the vote is counted."""
    try:
        answer = path.read_bytes()
    except OSError as exc:
        raise InvalidInput(f"cannot read {path}: {exc.strerror}") from None
    summary = lifecycle.receive_trustee_answer(queries.get_vote(vote_id), answer)
    text = (f"Accepted the answer of trustee {summary['trustee']}: {summary['answered']} of the "
            f"{summary['trustees_needed']} needed.")
    if summary["status"] == "closed":
        text += f"\nVote {vote_id} is counted: {summary['ballots']} ballots.\n" + _result_text(summary["result"])
    return Output(summary, text)


@vote.command("cancel")
@click.argument("vote_id", type=int)
@click.option("--reason", required=True)
@click.option("--dry-run", is_flag=True, help="Only say what cancelling would do.")
@json_option
@in_unit_of_work
def vote_cancel(vote_id, reason, dry_run, as_json):
    """Cancel a draft or open vote; it counts for nobody. Says what that does."""
    v = queries.get_vote(vote_id)
    before = queries.consequences(v)
    if dry_run:
        if v.status not in (DRAFT, OPEN):
            lifecycle.cancel_vote(v, reason)  # refused, saying why
        return Output(before.as_dict() | {"dry_run": True},
                      f"Cancelling vote {vote_id} would do this (nothing is changed):\n"
                      + "\n".join(before.cancelling_lines()))
    lifecycle.cancel_vote(v, reason)
    return Output({"id": vote_id, "status": "cancelled", "ballots_destroyed": before.voted},
                  f"Vote {vote_id} cancelled.\n" + "\n".join(before.cancelling_lines()))


@vote.command("publish")
@click.argument("vote_id", type=int)
@json_option
@in_unit_of_work
def vote_publish(vote_id, as_json):
    """Publish a closed vote's result and signed record."""
    v = queries.get_vote(vote_id)
    lifecycle.publish(v)
    url = outbox.external_url("votes.results", vote_id=vote_id)
    return Output({"id": vote_id, "status": v.status, "results": url}, f"Vote {vote_id} published: {url}")


@vote.command("extend")
@click.argument("vote_id", type=int)
@click.option("--closes-at", required=True, help="The new, later closing time, e.g. 2026-12-08T18:00Z.")
@json_option
@in_unit_of_work
def vote_extend(vote_id, closes_at, as_json):
    """Close an open vote later; those who have not voted get a fresh link."""
    when = parse_when(closes_at)
    count = lifecycle.extend_vote(queries.get_vote(vote_id), when)
    return Output({"id": vote_id, "closes_at": when.isoformat(), "links_queued": count},
                  f"Vote {vote_id} now closes {when:%Y-%m-%d %H:%M} UTC; {count} fresh links queued.")


@vote.command("remind")
@click.argument("vote_id", type=int)
@click.option("--at", "at", help="Schedule it (ISO date and time with zone) instead of sending now.")
@json_option
@in_unit_of_work
def vote_remind(vote_id, at, as_json):
    """Send the ballot link again to those who have not voted, now or at a set time (`ballot worker`)."""
    v = queries.get_vote(vote_id)
    if at:
        when = parse_when(at)
        links.schedule_reminder(v, when)
        return Output({"id": vote_id, "scheduled_at": when.isoformat()},
                      f"A reminder for vote {vote_id} will go at {when:%Y-%m-%d %H:%M} UTC.")
    count = links.send_reminder(v)
    return Output({"id": vote_id, "reminded": count}, f"Reminders queued to {count} voting rights that have not voted.")


@vote.command("show")
@click.argument("vote_id", type=int)
@json_option
@in_unit_of_work
def vote_show(vote_id, as_json):
    """Show a vote, its rules, turnout so far and (once closed) its result; a draft, who would vote."""
    v = queries.get_vote(vote_id)
    shown = v.shown_status()
    electorate = queries.electorate_preview(v)
    trustees = custody.trustees_of(v)
    data = vote_summary(v) | {
        "participants": queries.participation_count(v), "result": v.result, "electorate": electorate,
        "trustees": [{"index": r.position, "name": r.trustee.name, "fingerprint": r.fingerprint,
                      "answered_at": r.answered_at.isoformat() if r.answered_at else None} for r in trustees],
        "trustees_needed": v.trustee_threshold, "collection_key": custody.collection_fingerprint(v),
    }
    if v.status == DRAFT:
        when = f"closes {v.closes_at:%Y-%m-%d %H:%M} UTC; "
        turnout = f"{electorate} voting rights would take part if it opened now (the electorate is frozen at opening)."
    else:
        when = (f"its time passed at {v.closes_at:%Y-%m-%d %H:%M} UTC: casting has stopped, and it is closed by "
                "`ballot worker` or `ballot vote close`; " if shown == CLOSING
                else f"closes {v.closes_at:%Y-%m-%d %H:%M} UTC; " if shown == OPEN else "")
        turnout = f"{data['participants']} of {v.electorate_size} have voted."
    text = (
        f"Vote {v.id} ({v.kind}, {shown}): {v.title}\n{when}{turnout}\n"
        + "\n".join(vote_rules.describe(v.rules, electorate if v.status == DRAFT else None))
        + "\n" + _trustees_text(v, trustees)
        + ("\n" + _result_text(v.result) if v.result else "")
    )
    return Output(data, text)


def _trustees_text(v, trustees) -> str:
    if not trustees:
        return "No trustees: the installation's sealing key protects this vote's key."
    lines = [f"Trustees: {v.trustee_threshold} of these {len(trustees)} must answer after the close."]
    for r in trustees:
        answered = f"; answered {r.answered_at:%Y-%m-%d %H:%M} UTC" if r.answered_at else ""
        lines.append(f"  #{r.position} {r.trustee.name}: {r.fingerprint}{answered}")
    if v.collection_key:
        lines.append(f"Collection key of this close: {custody.collection_fingerprint(v)}")
    return "\n".join(lines)


@vote.command("add-voter")
@click.argument("vote_id", type=int)
@click.argument("member")
@click.option("--reason", required=True, help="Why they are added: kept in the audit log.")
@json_option
@in_unit_of_work
def vote_add_voter(vote_id, member, reason, as_json):
    """Add to an open vote a MEMBER (id or email) who was missed; they get their ballot link."""
    count = lifecycle.add_voter(queries.get_vote(vote_id), member, reason)
    v = queries.get_vote(vote_id)
    return Output({"id": vote_id, "added": count, "electorate": v.electorate_size},
                  f"Added {member} to vote {vote_id} ({count} voting right(s)); its electorate is now "
                  f"{v.electorate_size}; the ballot link is queued.")


@vote.command("list")
@click.option("--period", "year", type=int)
@json_option
@in_unit_of_work
def vote_list(year, as_json):
    """List votes."""
    rows = queries.list_votes(eligibility.get_period(year) if year else None)
    return Output([vote_summary(v) for v in rows],
                  "\n".join(f"{v.id:>4}  {v.shown_status():<9} {v.kind:<18} {v.title}" for v in rows) or "No votes.")


@vote.command("export")
@click.argument("vote_id", type=int)
@click.option("-o", "--output", "out", type=click.Path(dir_okay=False, path_type=Path), required=True)
@json_option
@in_unit_of_work
def vote_export(vote_id, out, as_json):
    """Write a published vote's signed record (for `ballot verify`)."""
    document = queries.published_record(queries.get_vote(vote_id))
    out.write_text(json.dumps(document, indent=1, sort_keys=True))
    return Output({"id": vote_id, "written": str(out), "signature": document["signature"]},
                  f"Wrote the signed record of vote {vote_id} to {out}.")


def _result_text(result: dict) -> str:
    lines = [f"Turnout {result['participants']}/{result['electorate']} ({result['turnout_percent']}%)"
             + ("; quorum not met: the vote is void, and decides nothing." if result["void"] else ".")
             + (f" The electorate includes {result['added_after_opening']} added after opening."
                if result.get("added_after_opening") else "")]
    for q in result["questions"]:
        counts = ", ".join(f"{k} {v}" for k, v in q["counts"].items())
        if "elected" in q:
            lines.append(f"  {q['title']}: {counts}; elected: {', '.join(q['elected'])}")
        else:
            lines.append(f"  {q['title']}: {counts}: {q['outcome']}")
    return "\n".join(lines)


# Mail and the worker ---------------------------------------------------------------

mail_group = click.Group("mail", help="The outbox.")


@mail_group.command("send")
@json_option
@handles_errors
def mail_send(as_json):
    """Answer the requests for links sent again, then send every message that is due, once."""
    worker_runner.Worker([vote_tasks.ANSWER_LINK_REQUESTS]).round()
    counts = mail_tasks.send_due()
    return Output(counts, f"Sent {counts['sent']}, {counts['retry']} to retry, {counts['failed']} failed.")


@mail_group.command("status")
@json_option
@in_unit_of_work
def mail_status(as_json):
    """Count outbox messages by status, and name any a worker left half-sent."""
    counts = outbox.outbox_counts()
    stuck = outbox.stuck()
    text = ", ".join(f"{k}: {v}" for k, v in sorted(counts.items())) or "The outbox is empty."
    if stuck:
        # Possibly delivered already: never retried by themselves, so that nobody gets a message twice.
        text += (f"\n{len(stuck)} message(s) were claimed by a worker that never finished (ids "
                 f"{', '.join(str(m.id) for m in stuck)}): check the mail server's log before sending them again "
                 "with `ballot mail release ID...`.")
    return Output(counts | ({"stuck": [m.id for m in stuck]} if stuck else {}), text)


@mail_group.command("release")
@click.argument("message_ids", metavar="[ID]...", nargs=-1, type=int)
@click.option("--all-stuck", is_flag=True, help="Release every message left half-sent.")
@json_option
@in_unit_of_work
def mail_release(message_ids, all_stuck, as_json):
    """Send again messages a stopped worker left half-sent (check the mail server's log first)."""
    if bool(message_ids) == all_stuck:
        raise InvalidInput("give the ids of messages left half-sent (see `ballot mail status`), or --all-stuck")
    released = outbox.release(None if all_stuck else list(message_ids))
    text = (f"Released {len(released)} message(s) (ids {', '.join(map(str, released))}); "
            "`ballot worker` or `ballot mail send` sends them." if released else "No message was left half-sent.")
    return Output({"released": released}, text)


def worker_tasks() -> list:
    """Everything `ballot worker` does, in the order of a round."""
    return [
        *vote_tasks.TASKS,
        worker_runner.RoundTask("uploads.purge", lambda stopping: _purged(purge_expired_uploads())),
        worker_runner.RoundTask("mail", lambda stopping: _sent(mail_tasks.send_due(stopping=stopping))),
    ]


def _purged(count: int) -> str | None:
    return f"{count} roster uploads older than a day deleted" if count else None


def _sent(counts: dict) -> str | None:
    return ", ".join(f"{name} {count}" for name, count in counts.items() if count) or None


@click.group("worker", invoke_without_command=True)
@click.option("--once", is_flag=True, help="Run one round and stop.")
@click.option("--interval", type=float, default=10.0, help="Seconds between rounds once there is nothing to do.")
@click.pass_context
def worker(context, once, interval):
    """Open and close votes at their times, send scheduled reminders and the outbox, until stopped.

    Each vote, reminder and message is handled on its own: one that fails is
    logged, shown by `ballot worker status` and tried again later, and the
    worker carries on. SIGTERM (or Ctrl-C) stops it after the item in hand.
    """
    if context.invoked_subcommand is not None:
        return
    worker_runner.Worker(worker_tasks()).run(interval, once=once, report=click.echo)


@worker.command("status")
@json_option
@in_unit_of_work
def worker_status(as_json):
    """What the worker could not do, and when it tries again; messages left half-sent."""
    failed = worker_runner.failures()
    stuck = outbox.stuck()
    data = {
        "failures": [{"task": f.task, "item": f.item, "subject": f.subject, "attempts": f.attempts,
                      "error": f.error, "first_failed_at": f.first_failed_at.isoformat(),
                      "retry_at": f.retry_at.isoformat()} for f in failed],
        "stuck_messages": [m.id for m in stuck],
    }
    lines = [f"{f.task} for {f.subject}: failed {f.attempts} time(s) since {f.first_failed_at:%Y-%m-%d %H:%M} UTC; "
             f"next try {f.retry_at:%Y-%m-%d %H:%M} UTC.\n  {f.error}" for f in failed]
    if stuck:
        lines.append(f"{len(stuck)} message(s) were left half-sent by a worker that stopped: `ballot mail status`.")
    return Output(data, "\n".join(lines) or "The worker has nothing it could not do.")


@click.command("demo")
@json_option
@handles_errors
def demo(as_json):
    """Load the demo: a period, a small roster, and one open vote."""
    from ballot.demo import load_demo

    lines = load_demo()
    return Output({"loaded": lines}, "\n".join(lines))


def register(app: Flask) -> None:
    # Both use this module's helpers; `ballot trustee` is defined with the commands that need no app.
    from ballot.admin.commands import admin_group
    from ballot.cli import trustee_group

    for command in (period, roster_group, vote, mail_group, worker, demo, admin_group, trustee_group):
        app.cli.add_command(command)
