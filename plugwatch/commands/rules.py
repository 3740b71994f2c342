"""`plugwatch rules ...` (policy rules: check, schema, stats, backtest) and `plugwatch terms ...`."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from plugwatch.commands.common import EXIT_OK, err, fail, open_db

EXIT_PROBLEMS = 3
rules_app = typer.Typer(no_args_is_help=True, help="Policy rules: YAML files with a CEL condition, an action and a "
                                                   "mode (active, shadow, off).")
terms_app = typer.Typer(no_args_is_help=True, help="New slang from reviewers' decisions; the site vocabulary.")
DbOption = Annotated[str | None, typer.Option("--db", help="Database URL (default: $PLUGWATCH_DB, else "
                                                           "sqlite:///plugwatch.db).")]
RulesOption = Annotated[str | None, typer.Option("--rules", help="Rules folder (default: $PLUGWATCH_RULES; none: "
                                                                 "the built-in default rules).")]


@rules_app.command("check")
def check(folder: Annotated[Path, typer.Argument(help="A rules folder.")]) -> None:
    """Validate every rule file in FOLDER (with the default rules) without loading it anywhere.
    Exit 0: all good; 3: problems, one line each (file:line: rule NAME: what is wrong)."""
    from plugwatch.rules.ruleset import check as check_folder
    from plugwatch.rules.ruleset import load

    problems = check_folder(folder)
    for p in problems:
        err.print(str(p), soft_wrap=True, markup=False)
    if problems:
        raise typer.Exit(EXIT_PROBLEMS)
    for rule in load(folder).rules:
        sys.stdout.write(f"{rule.name}\t{rule.mode}\t{rule.short_version}\t{rule.path}\n")
    raise typer.Exit(EXIT_OK)


@rules_app.command("init")
def init(folder: Annotated[Path, typer.Argument(help="The rules folder to create or add to.")]) -> None:
    """Start a rules folder with the example rule (offers with a Wickr contact from accounts under a week
    old go to the leads' queue), in shadow mode. Existing files are never overwritten."""
    import shutil

    examples = Path(__file__).resolve().parent.parent / "rules" / "examples"
    if folder.exists() and not folder.is_dir():
        fail(f"{folder}: a rules folder is wanted, not a file: give its folder ({folder.parent})")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as e:  # a file on the way, no permission: one line, not a traceback
        fail(f"{folder}: cannot make the rules folder: {e.strerror}")
    for src in sorted(examples.glob("*.yaml")):
        dest = folder / src.name
        if dest.exists():
            err.print(f"kept {escape(str(dest))} (exists)")
            continue
        shutil.copyfile(src, dest)
        err.print(f"wrote {escape(str(dest))}")


@rules_app.command("schema")
def schema(as_json: Annotated[bool, typer.Option("--json", help="JSON instead of a Markdown table.")] = False) -> None:
    """The object a rule's condition sees: every field, its CEL type and meaning."""
    from plugwatch.rules import schema as s

    sys.stdout.write(json.dumps(s.as_json(), indent=2) + "\n" if as_json else s.markdown())


def _day(value: str | None, what: str):
    from datetime import date

    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        fail(f"{what} {value!r}: give a date as YYYY-MM-DD")


@rules_app.command("backtest")
def backtest(
    rule_file: Annotated[Path, typer.Argument(help="One rule file (its mode is ignored: it runs as if active).")],
    since: Annotated[str | None, typer.Option(help="Only items posted on or after this day (YYYY-MM-DD).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="The figures as JSON.")] = False,
    db: DbOption = None,
) -> None:
    """Run RULE_FILE over stored items against reviewers' final decisions: matches, precision, share of
    actioned items covered, dismissed items it would have hit (ids), queue volume it adds per day."""
    from plugwatch.rules.backtest import run, text_report
    from plugwatch.rules.model import RuleError, load_file

    day = _day(since, "--since")
    try:
        rule = load_file(rule_file)
    except RuleError as e:
        fail(str(e))
    store = open_db(db, create=False)
    with store.session() as s:
        report = run(s, rule, day)
    store.dispose()
    sys.stdout.write(json.dumps(report, indent=2) + "\n" if as_json else text_report(report))


@rules_app.command("stats")
def stats(
    days: Annotated[int, typer.Option(min=1, max=3650, help="Window in days.")] = 30,
    as_json: Annotated[bool, typer.Option("--json", help="The figures as JSON.")] = False,
    db: DbOption = None,
) -> None:
    """Per rule: matches per day, the share reviewers then actioned, and for shadow rules what an active
    version would have changed."""
    from plugwatch.rules.stats import rule_stats, text_report

    store = open_db(db, create=False)
    with store.session() as s:
        report = rule_stats(s, days)
    store.dispose()
    sys.stdout.write(json.dumps(report, indent=2) + "\n" if as_json else text_report(report))


@terms_app.command("suggest")
def terms_suggest(
    since: Annotated[str | None, typer.Option(help="Only items posted on or after this day (YYYY-MM-DD).")] = None,
    top: Annotated[int, typer.Option(min=1, max=500, help="How many candidates.")] = 25,
    as_json: Annotated[bool, typer.Option("--json", help="The candidates as JSON.")] = False,
    db: DbOption = None,
) -> None:
    """Candidate slang: terms over-represented in items reviewers actioned against dismissed items and the
    ordinary stream (weighted log-odds, informative Dirichlet prior), with counts, examples and category."""
    from plugwatch.rules.terms import suggest, text_report

    day = _day(since, "--since")
    store = open_db(db, create=False)
    with store.session() as s:
        report = suggest(s, day, top)
    store.dispose()
    sys.stdout.write(json.dumps(report, indent=2, ensure_ascii=False) + "\n" if as_json else text_report(report))


@terms_app.command("accept")
def terms_accept(
    term: Annotated[str, typer.Argument(help="The term as posts spell it (it is folded like posts are).")],
    category: Annotated[str, typer.Option(help="Its drug category, one of the vocabulary's (e.g. mdma, opioid, "
                                               "cannabis; a wrong one lists them).")],
    rules: RulesOption = None,
    by: Annotated[str | None, typer.Option(help="The lead (or admin) who accepts it, a user of the database "
                                                "(default $PLUGWATCH_USER); recorded in the audit log.")] = None,
    db: DbOption = None,
) -> None:
    """Add TERM to the site vocabulary (site_terms.tsv in the rules folder). The detector reads it at
    start-up: matches show in reasons as `site_term` and weigh as a vocabulary term, without retraining."""
    import os

    from plugwatch.actions import ADMIN, LEAD
    from plugwatch.rules.terms import accept, vocabulary_conflict
    from plugwatch.settings import rules_dir
    from plugwatch.store import audit
    from plugwatch.store.users import get_user
    from plugwatch.text.vocabulary import Vocabulary

    folder = rules_dir(rules)
    if not folder:
        fail("name the rules folder the vocabulary lives beside: --rules DIR or $PLUGWATCH_RULES")
    if not term.strip() or "\t" in term or "\n" in term or len(term) > 100:
        fail("a term is 1-100 characters, without tabs or line breaks")
    # A category the detector does not know would be a drug of its own in verdicts ("opioids" beside
    # "opioid"), which rules and filters on the known ones miss.
    known = sorted(Vocabulary.default().categories())
    if category not in known:
        fail(f"category {category!r} is not one of the vocabulary's: {', '.join(known)}")
    if why := vocabulary_conflict(term.strip(), category):
        fail(why)
    name = by or os.environ.get("PLUGWATCH_USER")
    if not name:
        fail("say which lead accepts it: --by NAME (or set PLUGWATCH_USER)")
    store = open_db(db, create=False)
    try:
        with store.session() as s:
            user = get_user(s, name)
            if user is None or not user.active or user.role not in (LEAD, ADMIN):
                fail(f"{name!r} is not an active lead or admin (see `plugwatch users list`): a lead accepts a term")
            there = accept(Path(folder), term.strip(), category)
            audit.append(s, user.name, "terms.accept", f"term:{term.strip()}",
                         {"category": category, "added": there is None, "folder": str(folder)})
    finally:
        store.dispose()
    # Already there: say the category the file gives it, which may not be the one asked for.
    err.print(f"{'added' if there is None else 'already in'} {escape(str(Path(folder) / 'site_terms.tsv'))}: "
              f"{escape(term.strip())} ({there or category}); restart the service to use it", soft_wrap=True)


def register(app: typer.Typer) -> None:
    app.add_typer(rules_app, name="rules")
    app.add_typer(terms_app, name="terms")
