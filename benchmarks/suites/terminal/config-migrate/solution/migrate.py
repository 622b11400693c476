"""Migrate /app/configs/*.json (version 1) to /app/configs-v2/ (version 2), per MIGRATION.md."""

import json
import re
import sys
from decimal import Decimal, InvalidOperation
from pathlib import Path

KNOWN = {"name", "owner_email", "owner", "host", "timeout", "retries", "debug", "tags", "env",
         "legacy_mode", "compat"}
TRUTH = {"yes": True, "on": True, "true": True, "no": False, "off": False, "false": False}
UNITS = {"ms": Decimal(1), "s": Decimal(1000), "m": Decimal(60000)}


class Invalid(ValueError):
    pass


def is_int(value):
    return isinstance(value, int) and not isinstance(value, bool)


def host_port(value):
    if not isinstance(value, str) or not value:
        raise Invalid("host must be a non-empty string")
    match = re.fullmatch(r"\[([^\]]+)\](?::(\d+))?|([^:\[\]]+)(?::(\d+))?", value)
    if not match:
        raise Invalid(f"cannot read host {value!r}")
    host = match[1] or match[3]
    port = int(match[2] or match[4] or 80)
    if not 1 <= port <= 65535:
        raise Invalid(f"port {port} out of range")
    return host, port


def timeout_ms(value):
    if is_int(value) or isinstance(value, float):
        ms = Decimal(str(value)) * 1000
    elif isinstance(value, str):
        match = re.fullmatch(r"(\d+(?:\.\d+)?)(ms|s|m)", value.strip())
        if not match:
            raise Invalid(f"timeout {value!r} has no unit (ms, s, m)")
        try:
            ms = Decimal(match[1]) * UNITS[match[2]]
        except InvalidOperation:
            raise Invalid(f"bad timeout {value!r}") from None
    else:
        raise Invalid("timeout must be a number or a string")
    if ms != ms.to_integral_value() or ms <= 0:
        raise Invalid(f"timeout {value!r} is not a whole positive number of milliseconds")
    return int(ms)


def boolean(value):
    if isinstance(value, bool):
        return value
    if is_int(value) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.lower() in TRUTH:
        return TRUTH[value.lower()]
    raise Invalid(f"debug {value!r} is not a boolean")


def tags(value):
    if isinstance(value, str):
        items = value.split(",")
    elif isinstance(value, list) and all(isinstance(t, str) for t in value):
        items = value
    else:
        raise Invalid("tags must be a string or a list of strings")
    return sorted({t.strip().lower() for t in items if t.strip()})


def environment(value):
    if not isinstance(value, dict):
        raise Invalid("env must be an object")
    out = []
    for name in sorted(value):
        v = value[name]
        if isinstance(v, bool):
            v = "true" if v else "false"
        elif is_int(v) or isinstance(v, float):
            v = str(v)
        elif not isinstance(v, str):
            raise Invalid(f"env {name} must be a string, a number or a boolean")
        out.append({"name": name, "value": v})
    return out


def migrate(old):
    if not isinstance(old, dict):
        raise Invalid("not a JSON object")
    unknown = sorted(set(old) - KNOWN)
    if unknown:
        raise Invalid(f"unknown keys: {', '.join(unknown)}")
    name = old.get("name")
    if not isinstance(name, str) or not name:
        raise Invalid("name is missing or empty")
    if "host" not in old:
        raise Invalid("host is missing")
    owner = old.get("owner_email", old.get("owner"))
    if owner is not None and not isinstance(owner, str):
        raise Invalid("owner must be a string")
    host, port = host_port(old["host"])
    retries = old.get("retries", 0)
    if not is_int(retries) or not 0 <= retries <= 10:
        raise Invalid(f"retries {retries!r} must be an integer from 0 to 10")
    return {
        "version": 2,
        "service": {"name": name, "owner": owner},
        "connection": {"host": host, "port": port,
                       "timeout_ms": timeout_ms(old["timeout"]) if "timeout" in old else 10000,
                       "retries": retries},
        "debug": boolean(old["debug"]) if "debug" in old else False,
        "tags": tags(old["tags"]) if "tags" in old else [],
        "environment": environment(old["env"]) if "env" in old else [],
    }


def main(source="/app/configs", target="/app/configs-v2", errors="/app/migration-errors.txt"):
    Path(target).mkdir(parents=True, exist_ok=True)
    problems = []
    for path in sorted(Path(source).glob("*.json")):
        try:
            new = migrate(json.loads(path.read_text(encoding="utf-8")))
        except (Invalid, ValueError) as exc:
            problems.append(f"{path.name}: {exc}")
            continue
        (Path(target) / path.name).write_text(json.dumps(new, indent=2) + "\n")
    Path(errors).write_text("".join(p + "\n" for p in problems))


if __name__ == "__main__":
    main(*sys.argv[1:])
