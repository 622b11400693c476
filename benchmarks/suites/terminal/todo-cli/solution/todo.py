#!/usr/bin/env python3
"""A to-do list kept in a JSON file ($TODO_FILE, default ./todo.json)."""

import argparse
import datetime
import json
import os
import sys
import tempfile


class Failure(Exception):
    def __init__(self, message, status):
        super().__init__(message)
        self.status = status


def date(text):
    try:
        return datetime.date.fromisoformat(text).isoformat() if len(text) == 10 else _bad(text)
    except ValueError:
        _bad(text)


def _bad(text):
    raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}")


def load(path):
    if not os.path.exists(path):
        return {"next_id": 1, "tasks": []}
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def save(path, data):
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".todo-")
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump(data, f)
    os.replace(tmp, path)


def find(data, task_id):
    for task in data["tasks"]:
        if task["id"] == task_id:
            return task
    raise Failure(f"todo: no task {task_id}", 1)


def parser():
    p = argparse.ArgumentParser(prog="todo")
    sub = p.add_subparsers(dest="command", required=True)
    add = sub.add_parser("add")
    add.add_argument("text")
    add.add_argument("--due", type=date)
    add.add_argument("--tag", action="append", default=[])
    for name in ("done", "remove"):
        sub.add_parser(name).add_argument("id", type=int)
    ls = sub.add_parser("list")
    ls.add_argument("--all", action="store_true")
    ls.add_argument("--tag")
    ls.add_argument("--due-before", type=date)
    return p


def run(args, data):
    """Carry out the command on `data`; returns the lines to print and whether it changed."""
    if args.command == "add":
        task = {"id": data["next_id"], "text": args.text, "due": args.due,
                "tags": sorted(set(args.tag)), "done": False}
        data["tasks"].append(task)
        data["next_id"] += 1
        return [f"added {task['id']}"], True
    if args.command == "done":
        find(data, args.id)["done"] = True
        return [f"done {args.id}"], True
    if args.command == "remove":
        data["tasks"].remove(find(data, args.id))
        return [f"removed {args.id}"], True
    tasks = [t for t in data["tasks"] if args.all or not t["done"]]
    if args.tag:
        tasks = [t for t in tasks if args.tag in t["tags"]]
    if args.due_before:
        tasks = [t for t in tasks if t["due"] and t["due"] < args.due_before]
    tasks.sort(key=lambda t: (t["due"] is None, t["due"] or "", t["id"]))
    return ["\t".join([str(t["id"]), "done" if t["done"] else "open", t["due"] or "-",
                       t["text"], ",".join(t["tags"]) or "-"]) for t in tasks], False


def main(argv=None):
    args = parser().parse_args(argv)  # exits with status 2 on a bad command line
    path = os.environ.get("TODO_FILE") or "todo.json"
    data = load(path)
    try:
        lines, changed = run(args, data)
    except Failure as exc:
        print(exc, file=sys.stderr)
        return exc.status
    if changed:
        save(path, data)
    for line in lines:
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
