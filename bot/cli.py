"""`python -m bot`: serve, knowledge-base import/export, index, intents, ask, search, eval, bench.

Every command honours BOT_DATA_DIR (and the other BOT_ settings) through `Settings`.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from settings import Settings

Handler = Callable[[argparse.Namespace, Settings], int]


def _print_json(data: Any) -> None:
    print(json.dumps(data, ensure_ascii=False, indent=2, default=str))


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    import uvicorn

    from server import create_app

    host, port = args.host or settings.host, args.port or settings.port
    print(f"问政助手 starting on http://{host}:{port}  (API docs: http://{host}:{port}/docs)")
    print(f"  try: curl -s http://{host}:{port}/api/chat -d '{{\"sender\":\"u1\",\"message\":\"身份证丢了怎么补办\"}}'")
    print(f"  web chat demo portal: http://{host}:{port}/")
    # 64 KiB: the widget's frames are at most 16 KiB; larger ones are refused before parsing
    uvicorn.run(create_app(settings), host=host, port=port, log_level="info", ws_max_size=65_536)
    return 0


def cmd_kb(args: argparse.Namespace, settings: Settings) -> int:
    from knowledge_base.errors import ImportFailed
    from knowledge_base.importers import export_file, import_file
    from knowledge_base.store import KnowledgeBaseStore
    from server import open_database

    store = KnowledgeBaseStore(open_database(settings))
    if args.kb_command == "export":
        count = export_file(store, Path(args.file))
        print(f"exported {count} entries to {args.file}")
        return 0
    try:
        report = import_file(store, Path(args.file), "cli", replace=args.replace, strict=args.strict)
    except ImportFailed as exc:
        print(f"import failed: {exc}", file=sys.stderr)
        return 1
    print(f"created {report.created}, updated {report.updated}, unchanged {report.unchanged}, "
          f"errors {len(report.errors)}")
    for error in report.errors:
        print(f"  line {error.line}: {error.id or '-'}: {error.reason}", file=sys.stderr)
    return 0 if not report.errors else 2


def cmd_index(args: argparse.Namespace, settings: Settings) -> int:
    from knowledge_base.store import KnowledgeBaseStore
    from server import build_index, open_database

    store = KnowledgeBaseStore(open_database(settings))
    index = build_index(settings, store, rebuild=True, progress=True)
    print(f"index rebuilt: {index.size} entries")
    return 0


def cmd_intents(args: argparse.Namespace, settings: Settings) -> int:
    from server import build_classifier

    build_classifier(settings, force=True)
    print(f"intent model trained from {settings.nlu_path}")
    return 0


def cmd_ask(args: argparse.Namespace, settings: Settings) -> int:
    from bot.dialogue import rasa_messages
    from bot.messages import InboundMessage
    from server import build_services

    services = build_services(settings)
    outcome = services.bot.handle(InboundMessage("cli", args.sender, args.text))
    messages = rasa_messages(args.sender, outcome.replies)
    if args.json:
        _print_json(messages)
    for message in [] if args.json else messages:
        print(message["text"])
        for n, button in enumerate(message.get("buttons", []), 1):
            print(f"  [{n}] {button['title']}")
    return 0


def cmd_search(args: argparse.Namespace, settings: Settings) -> int:
    from knowledge_base.store import KnowledgeBaseStore
    from server import build_index, open_database

    index = build_index(settings, KnowledgeBaseStore(open_database(settings)))
    result = index.retriever.search(args.query, args.k)
    rows = [{"id": h.entry_id, "title": h.title, "kind": h.kind, "score": round(h.score, 4),
             "current": h.current} for h in result.hits]
    if args.json:
        _print_json({"query": args.query, "confident": result.confident, "results": rows})
        return 0
    print(f"confident: {result.confident}")
    for row in rows:
        print(f"{row['score']:.3f}  {row['id']}  {row['title']}")
    return 0


def cmd_parse(args: argparse.Namespace, settings: Settings) -> int:
    from server import build_classifier

    parsed = build_classifier(settings).parse(args.text).to_rasa(args.text)
    if args.json:
        _print_json(parsed)
    else:
        for item in parsed["intent_ranking"][:5]:
            print(f"{item['confidence']:.3f}  {item['name']}")
    return 0


def cmd_eval(args: argparse.Namespace, settings: Settings) -> int:
    from bot import evaluation

    return evaluation.run(args, settings)


def cmd_bench(args: argparse.Namespace, settings: Settings) -> int:
    from bot import benchmark

    return benchmark.run(args, settings)


def cmd_wechat(args: argparse.Namespace, settings: Settings) -> int:
    from bot.channels.errors import ChannelError
    from bot.channels.wechat_menu import publish_menu

    if not settings.wechat_appid or settings.wechat_app_secret is None:
        print("set BOT_WECHAT_APPID and BOT_WECHAT_APP_SECRET first", file=sys.stderr)
        return 2
    path = Path(args.file) if args.file else settings.wechat_menu_path
    try:
        sent = publish_menu(settings.wechat_appid, settings.wechat_app_secret.get_secret_value(),
                            settings.wechat_api_base, path)
    except ChannelError as exc:
        print(f"menu push failed: {exc}", file=sys.stderr)
        return 1
    print(f"menu published: {len(sent['button'])} top-level buttons")
    return 0


def _read_password() -> str:
    """getpass on a terminal (asked twice); otherwise the first line of stdin."""
    if not sys.stdin.isatty():
        return sys.stdin.readline().rstrip("\r\n")
    import getpass

    first = getpass.getpass("密码 password: ")
    if getpass.getpass("再输入一次 again: ") != first:
        raise ValueError("the two passwords differ")
    return first


def cmd_users(args: argparse.Namespace, settings: Settings) -> int:
    from bot.console.accounts import AccountError, AccountStore
    from bot.console.passwords import WeakPassword
    from server import open_database

    accounts = AccountStore(open_database(settings))
    if args.users_command == "list":
        for user in accounts.users():
            print(f"{user.username}\t{user.role}\t{user.display_name}")
        return 0
    try:
        user = accounts.add_user(args.username, _read_password(), args.role,
                                 args.name or args.username)
    except (AccountError, WeakPassword, ValueError) as exc:
        print(f"not added: {exc}", file=sys.stderr)
        return 1
    print(f"added {user.role} {user.username} ({user.display_name})")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bot", description="问政助手 command line")
    parser.add_argument("-v", "--verbose", action="store_true",
                        help="log at INFO (migrations, model loading); `serve` always does")
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="serve the HTTP API")
    serve.add_argument("--host")
    serve.add_argument("--port", type=int)
    kb = sub.add_parser("kb", help="import or export the knowledge base")
    kb_sub = kb.add_subparsers(dest="kb_command", required=True)
    imp = kb_sub.add_parser("import", help="import .jsonl/.json/.yaml/.csv/.xlsx")
    imp.add_argument("file")
    imp.add_argument("--replace", action="store_true", help="replace the whole knowledge base")
    imp.add_argument("--strict", action="store_true", help="write nothing if any row is bad")
    exp = kb_sub.add_parser("export", help="export by the file's extension")
    exp.add_argument("file")
    index = sub.add_parser("index", help="search index")
    index.add_argument("index_command", choices=["rebuild"])
    intents = sub.add_parser("intents", help="intent model")
    intents.add_argument("intents_command", choices=["train"])
    ask = sub.add_parser("ask", help="ask the assistant one question")
    ask.add_argument("text")
    ask.add_argument("--sender", default="cli")
    ask.add_argument("--json", action="store_true")
    search = sub.add_parser("search", help="search the knowledge base")
    search.add_argument("query")
    search.add_argument("-k", type=int, default=5)
    search.add_argument("--json", action="store_true")
    parse = sub.add_parser("parse", help="classify a message (Rasa parse format)")
    parse.add_argument("text")
    parse.add_argument("--json", action="store_true")
    _add_eval(sub)
    users = sub.add_parser("users", help="staff console accounts")
    users_sub = users.add_subparsers(dest="users_command", required=True)
    add = users_sub.add_parser("add", help="add an account; the password is read from a "
                               "prompt, or from stdin when piped")
    add.add_argument("username")
    add.add_argument("--role", choices=("staff", "supervisor"), required=True)
    add.add_argument("--name", help="the name citizens and colleagues see, e.g. 王芳")
    users_sub.add_parser("list", help="list active accounts")
    wechat = sub.add_parser("wechat", help="WeChat Official Account channel")
    wechat_sub = wechat.add_subparsers(dest="wechat_command", required=True)
    menu = wechat_sub.add_parser("menu", help="the custom menu")
    menu.add_argument("menu_command", choices=["push"])
    menu.add_argument("--file", help="menu YAML (default: BOT_WECHAT_MENU_PATH or the bundled one)")
    bench = sub.add_parser("bench", help="latency, throughput, memory and build time")
    bench.add_argument("--shared", default="../shared/eval")
    bench.add_argument("--quick", action="store_true", help="smaller runs, for a smoke test")
    bench.add_argument("--only", choices=("all", "retrieval", "widget", "wechat", "console"), default="all",
                       help="one part of the benchmark")
    bench.add_argument("--base", choices=("both", "dev-2k", "synthetic-20k"), default="both",
                       help="which knowledge base the retrieval part serves")
    bench.add_argument("--repeat", type=int, default=None, metavar="N",
                       help="rounds of the served figures per base, each on a fresh server;"
                            " the medians are reported (default 3; --quick: 1)")
    return parser


def _add_eval(sub: Any) -> None:
    ev = sub.add_parser("eval", help="evaluate retrieval and intents")
    ev_sub = ev.add_subparsers(dest="eval_command", required=True)
    ret = ev_sub.add_parser("retrieval")
    ret.add_argument("--kb", required=True)
    ret.add_argument("--queries", required=True)
    ret.add_argument("--json", action="store_true")
    itn = ev_sub.add_parser("intents")
    itn.add_argument("--data", required=True)
    itn.add_argument("--json", action="store_true")
    both = ev_sub.add_parser("all", help="the dev set and our own sets, one table")
    both.add_argument("--shared", default="../shared/eval")
    both.add_argument("--json", action="store_true")


HANDLERS: dict[str, Handler] = {
    "serve": cmd_serve, "kb": cmd_kb, "index": cmd_index, "intents": cmd_intents,
    "ask": cmd_ask, "search": cmd_search, "parse": cmd_parse, "eval": cmd_eval,
    "bench": cmd_bench, "wechat": cmd_wechat, "users": cmd_users,
}


QUIET_LOGGERS = ("faiss.loader", "alembic.runtime.plugins")


def configure_logging(args: argparse.Namespace) -> None:
    """A server's log says what it does; a one-off command prints its result and only
    warnings, not screens of migration and library INFO lines."""
    level = logging.INFO if args.command == "serve" or args.verbose else logging.WARNING
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if not args.verbose:
        # FAISS logs each CPU-specific build it looks for and does not ship (its wheel
        # dispatches at run time) as "ModuleNotFoundError": noise that reads like a fault.
        for name in QUIET_LOGGERS:
            logging.getLogger(name).setLevel(logging.WARNING)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    configure_logging(args)
    return HANDLERS[args.command](args, Settings())
