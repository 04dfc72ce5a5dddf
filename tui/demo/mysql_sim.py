"""A simulated MariaDB primary and replica speaking the MySQL client/server protocol, for `--demo`.

aiomysql and PyMySQL (and the `mariadb` command-line client) talk to it as to
MariaDB 10.11: HandshakeV10 with mysql_native_password checked against the
configured password, COM_QUERY with text result sets (EOF or, under
CLIENT_DEPRECATE_EOF, OK terminators), multi-statement batches, COM_PING,
COM_INIT_DB, COM_QUIT. Column definitions copy a real 10.11's (names, types,
charsets, lengths) so that drivers convert values the same way.

Queries are answered by a small SQL evaluator over simulated tables
(information_schema.PROCESSLIST, INNODB_TRX, INNODB_SYS_TABLESPACES, TABLES,
performance_schema's statement digests), SHOW statements and @@variables.
Anything it does not know is ERR 1064, so that a new query in the collector
shows up in tests instead of being answered with something made up.

`MariadbPair` is the life: counters grow, the replica's lag drifts between 0
and 30 s, and now and then its SQL thread stops on a duplicate key (1062) for
a while and recovers. It is seeded and steppable with a fake clock.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import math
import os
import random
import re
import struct
import time
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

log = logging.getLogger(__name__)

VERSION = "10.11.6-MariaDB-sim"
HANDSHAKE_VERSION = "5.5.5-" + VERSION
"""MariaDB 10+ prefixes its handshake version so that old clients read it as 5.5."""
AUTH_PLUGIN = "mysql_native_password"

# Capability flags.
CLIENT_LONG_PASSWORD = 1
CLIENT_FOUND_ROWS = 1 << 1
CLIENT_LONG_FLAG = 1 << 2
CLIENT_CONNECT_WITH_DB = 1 << 3
CLIENT_NO_SCHEMA = 1 << 4
CLIENT_ODBC = 1 << 6
CLIENT_IGNORE_SPACE = 1 << 8
CLIENT_PROTOCOL_41 = 1 << 9
CLIENT_INTERACTIVE = 1 << 10
CLIENT_SSL = 1 << 11
CLIENT_IGNORE_SIGPIPE = 1 << 12
CLIENT_TRANSACTIONS = 1 << 13
CLIENT_RESERVED = 1 << 14
CLIENT_SECURE_CONNECTION = 1 << 15
CLIENT_MULTI_STATEMENTS = 1 << 16
CLIENT_MULTI_RESULTS = 1 << 17
CLIENT_PS_MULTI_RESULTS = 1 << 18
CLIENT_PLUGIN_AUTH = 1 << 19
CLIENT_CONNECT_ATTRS = 1 << 20
CLIENT_PLUGIN_AUTH_LENENC_CLIENT_DATA = 1 << 21
CLIENT_CAN_HANDLE_EXPIRED_PASSWORDS = 1 << 22
CLIENT_DEPRECATE_EOF = 1 << 24
SERVER_CAPABILITIES = (
    CLIENT_LONG_PASSWORD | CLIENT_FOUND_ROWS | CLIENT_LONG_FLAG | CLIENT_CONNECT_WITH_DB | CLIENT_NO_SCHEMA
    | CLIENT_ODBC | CLIENT_IGNORE_SPACE | CLIENT_PROTOCOL_41 | CLIENT_INTERACTIVE | CLIENT_IGNORE_SIGPIPE
    | CLIENT_TRANSACTIONS | CLIENT_RESERVED | CLIENT_SECURE_CONNECTION | CLIENT_MULTI_STATEMENTS
    | CLIENT_MULTI_RESULTS | CLIENT_PS_MULTI_RESULTS | CLIENT_PLUGIN_AUTH | CLIENT_CONNECT_ATTRS
    | CLIENT_PLUGIN_AUTH_LENENC_CLIENT_DATA | CLIENT_CAN_HANDLE_EXPIRED_PASSWORDS | CLIENT_DEPRECATE_EOF
)
SERVER_STATUS_AUTOCOMMIT = 0x0002
SERVER_MORE_RESULTS_EXISTS = 0x0008

COM_QUIT, COM_INIT_DB, COM_QUERY, COM_PING = 0x01, 0x02, 0x03, 0x0E

# Column types and charsets (as a real server labels them; drivers convert by these).
T_LONG, T_DOUBLE, T_LONGLONG, T_DATETIME = 3, 5, 8, 12
T_NEWDECIMAL, T_BLOB, T_VAR_STRING = 246, 252, 253
UTF8MB4, BINARY = 45, 63
NOT_NULL, UNSIGNED, BINARY_FLAG, NUM_FLAG = 1, 32, 128, 32768

MB = 1024 * 1024
GB = 1024 * MB
MAX_BINLOG_SIZE = GB
DATABASES = ("information_schema", "mysql", "performance_schema", "shop", "sys")


class SqlError(Exception):
    """An ERR packet: MariaDB's code, SQLSTATE and message."""

    def __init__(self, errno: int, sqlstate: str, message: str) -> None:
        super().__init__(message)
        self.errno, self.sqlstate, self.message = errno, sqlstate, message


def syntax_error(near: str) -> SqlError:
    near = " ".join(near.split())[:80]
    return SqlError(1064, "42000",
                    "You have an error in your SQL syntax; check the manual that corresponds to your "
                    f"MariaDB server version for the right syntax to use near '{near}' at line 1")


# ====================================================================== results


@dataclass(frozen=True, slots=True)
class Col:
    """A column definition (Protocol::ColumnDefinition41)."""

    name: str
    type: int = T_VAR_STRING
    length: int = 256
    flags: int = 0
    decimals: int = 39
    charset: int = UTF8MB4
    table: str = ""
    org_table: str = ""
    schema: str = ""
    org_name: str = ""

    def named(self, name: str) -> Col:
        return Col(name, self.type, self.length, self.flags, self.decimals, self.charset, self.table,
                   self.org_table, self.schema, self.org_name)


def text(name: str, length: int = 256, flags: int = 0) -> Col:
    return Col(name, T_VAR_STRING, length, flags, 39, UTF8MB4)


def number(name: str, type_: int = T_LONGLONG, length: int = 21, flags: int = 0, decimals: int = 0) -> Col:
    return Col(name, type_, length, flags | BINARY_FLAG if type_ != T_NEWDECIMAL else flags, decimals, BINARY)


def show_col(name: str, kind: str) -> Col:
    """A SHOW statement's column: NOT NULL texts and numbers as a real server sends them."""
    if kind == "s":
        return text(name, 2048, NOT_NULL)
    if kind == "i":
        return Col(name, T_LONG, 10, NOT_NULL | UNSIGNED | BINARY_FLAG, 0, BINARY)
    if kind == "I":
        return Col(name, T_LONGLONG, 20, NOT_NULL | UNSIGNED | BINARY_FLAG, 0, BINARY)
    if kind == "d":
        return Col(name, T_DOUBLE, 10, NOT_NULL | BINARY_FLAG, 3, BINARY)
    raise ValueError(kind)


def table_col(table: str, name: str, type_: int, length: int, flags: int = NOT_NULL,
              schema: str = "information_schema", decimals: int = 0) -> Col:
    charset = UTF8MB4 if type_ in (T_VAR_STRING, T_BLOB) else BINARY
    return Col(name, type_, length, flags | 4096, decimals, charset, table, table, schema, name)


@dataclass(slots=True)
class Result:
    columns: list[Col]
    rows: list[tuple[Any, ...]]


@dataclass(slots=True)
class Ok:
    affected: int = 0


# ====================================================================== SQL: tokens


_TOKEN = re.compile(r"""
    (?P<ws>\s+|/\*.*?\*/|--[^\n]*|\#[^\n]*)
  | (?P<str>'(?:[^'\\]|\\.|'')*'|"(?:[^"\\]|\\.|"")*")
  | (?P<num>\d+(?:\.\d+)?)
  | (?P<sysvar>@@(?:global\.|session\.|local\.)?[A-Za-z_][A-Za-z0-9_]*)
  | (?P<ident>`[^`]+`|[A-Za-z_][A-Za-z0-9_$]*)
  | (?P<op><>|!=|<=|>=|[=<>+\-*/(),.;])
""", re.VERBOSE | re.DOTALL | re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Tok:
    kind: str
    value: str
    pos: int

    @property
    def word(self) -> str:
        return self.value.lower() if self.kind == "ident" else ""


def tokenize(sql: str) -> list[Tok]:
    out, pos = [], 0
    while pos < len(sql):
        m = _TOKEN.match(sql, pos)
        if m is None:
            raise syntax_error(sql[pos:])
        kind = m.lastgroup or ""
        if kind != "ws":
            value = m.group()
            if kind == "ident" and value.startswith("`"):
                value = value[1:-1]
            out.append(Tok(kind, value, pos))
        pos = m.end()
    return out


def _unquote(s: str) -> str:
    q = s[0]
    body = s[1:-1].replace(q + q, q)
    return re.sub(r"\\(.)", lambda m: {"n": "\n", "t": "\t", "0": "\0"}.get(m.group(1), m.group(1)), body)


def split_statements(sql: str) -> list[str]:
    """A multi-statement query's statements (';' outside quotes and comments)."""
    parts, start = [], 0
    for tok in tokenize(sql):
        if tok.kind == "op" and tok.value == ";":
            parts.append(sql[start:tok.pos])
            start = tok.pos + 1
    parts.append(sql[start:])
    return [p.strip() for p in parts if p.strip()] or [""]


# ====================================================================== SQL: expressions

Row = dict[str, Any]
Env = dict[str, Any]
"""Per query: 'connection_id', 'now' (datetime), 'sysvar' (a function name -> value)."""

AGGREGATES = {"count", "sum", "max", "min", "avg"}


@dataclass(slots=True)
class Expr:
    """A compiled expression: `fn(row, env)`; aggregates evaluate over a group of rows."""

    fn: Callable[[Row, Env], Any]
    text: str
    column: str | None = None
    """The source column when the expression is a bare column reference."""
    aggregate: Callable[[list[Row], Env], Any] | None = None

    def value(self, rows: list[Row], env: Env) -> Any:
        if self.aggregate is not None:
            return self.aggregate(rows, env)
        return self.fn(rows[0] if rows else {}, env)


def _truth(v: Any) -> Any:
    if v is None:
        return None
    if isinstance(v, str):
        try:
            return float(v) != 0
        except ValueError:
            return False
    return bool(v)


def _cmp_key(v: Any) -> Any:
    return v.casefold() if isinstance(v, str) else v


def _compare(op: str, a: Any, b: Any) -> Any:
    if a is None or b is None:
        return None
    if isinstance(a, str) != isinstance(b, str):
        try:
            a, b = Decimal(str(a)), Decimal(str(b))
        except ArithmeticError:
            a, b = str(a), str(b)
    a, b = _cmp_key(a), _cmp_key(b)
    result = {"=": a == b, "<>": a != b, "!=": a != b, "<": a < b, ">": a > b, "<=": a <= b, ">=": a >= b}[op]
    return int(result)


def like(value: Any, pattern: Any) -> Any:
    if value is None or pattern is None:
        return None
    rx = "".join(".*" if c == "%" else "." if c == "_" else re.escape(c) for c in str(pattern))
    return int(re.fullmatch(rx, str(value), re.IGNORECASE | re.DOTALL) is not None)


def _num(v: Any) -> Any:
    if v is None or isinstance(v, int | float | Decimal):
        return v
    try:
        return Decimal(str(v))
    except ArithmeticError:
        return 0


class Parser:
    """Recursive descent over tokens: enough SQL for monitoring queries, 1064 for the rest."""

    def __init__(self, sql: str, columns: Callable[[str], str] | None = None) -> None:
        self.sql = sql
        self.toks = tokenize(sql)
        self.i = 0
        self.columns = columns or (lambda name: name)

    # -- cursor
    def peek(self, offset: int = 0) -> Tok | None:
        j = self.i + offset
        return self.toks[j] if j < len(self.toks) else None

    def fail(self) -> SqlError:
        tok = self.peek()
        return syntax_error(self.sql[tok.pos:] if tok else "")

    def at(self, *words: str) -> bool:
        for k, w in enumerate(words):
            tok = self.peek(k)
            if tok is None or (tok.word != w and not (tok.kind == "op" and tok.value == w)):
                return False
        return True

    def take(self, *words: str) -> bool:
        if self.at(*words):
            self.i += len(words)
            return True
        return False

    def expect(self, *words: str) -> None:
        if not self.take(*words):
            raise self.fail()

    def done(self) -> bool:
        return self.i >= len(self.toks)

    def span(self, start: int) -> str:
        """The source text of tokens[start:i]."""
        if start >= len(self.toks):
            return ""
        end = self.toks[self.i - 1]
        stop = end.pos + len(end.value) + (2 if end.kind == "ident" and self.sql[end.pos] == "`" else 0)
        return self.sql[self.toks[start].pos:stop]

    # -- grammar
    def expr(self) -> Expr:
        start = self.i
        e = self._or()
        e.text = self.span(start)
        return e

    def _or(self) -> Expr:
        left = self._and()
        while self.take("or"):
            right = self._and()
            left = _binary(left, right, lambda a, b: (1 if _truth(a) or _truth(b) else
                                                      None if a is None or b is None else 0))
        return left

    def _and(self) -> Expr:
        left = self._not()
        while self.take("and"):
            right = self._not()
            left = _binary(left, right, lambda a, b: (0 if _truth(a) is False or _truth(b) is False else
                                                      None if a is None or b is None else 1))
        return left

    def _not(self) -> Expr:
        if self.take("not"):
            inner = self._not()
            return Expr(lambda r, e: None if (v := _truth(inner.fn(r, e))) is None else int(not v), "")
        return self._comparison()

    def _comparison(self) -> Expr:
        left = self._additive()
        while True:
            tok = self.peek()
            if tok is None:
                return left
            if tok.kind == "op" and tok.value in ("=", "<>", "!=", "<", ">", "<=", ">="):
                self.i += 1
                right, op = self._additive(), tok.value
                left = _binary(left, right, lambda a, b, op=op: _compare(op, a, b))
            elif self.at("is"):
                self.i += 1
                negate = self.take("not")
                self.expect("null")
                inner = left
                left = Expr(lambda r, e, inner=inner, n=negate: int((inner.fn(r, e) is None) != n), "")
            elif self.at("like") or self.at("not", "like"):
                negate = self.take("not")
                self.expect("like")
                right = self._additive()
                left = _binary(left, right, lambda a, b, n=negate: (None if (m := like(a, b)) is None
                                                                    else int(bool(m) != n)))
            elif self.at("in", "(") or self.at("not", "in", "("):
                negate = self.take("not")
                self.expect("in", "(")
                items = [self.expr()]
                while self.take(","):
                    items.append(self.expr())
                self.expect(")")
                inner = left

                def member(r: Row, e: Env, inner: Expr = inner, items: list[Expr] = items,
                           n: bool = negate) -> Any:
                    v = inner.fn(r, e)
                    if v is None:
                        return None
                    found = any(_compare("=", v, it.fn(r, e)) for it in items)
                    return int(found != n)

                left = Expr(member, "")
            else:
                return left

    def _additive(self) -> Expr:
        left = self._multiplicative()
        while (tok := self.peek()) is not None and tok.kind == "op" and tok.value in "+-":
            self.i += 1
            right = self._multiplicative()
            op = tok.value
            left = _binary(left, right, lambda a, b, op=op: None if a is None or b is None else (
                _num(a) + _num(b) if op == "+" else _num(a) - _num(b)))
        return left

    def _multiplicative(self) -> Expr:
        left = self._primary()
        while (tok := self.peek()) is not None and tok.kind == "op" and tok.value in "*/":
            self.i += 1
            right = self._primary()
            op = tok.value
            left = _binary(left, right, lambda a, b, op=op: _times(op, a, b))
        return left

    def _primary(self) -> Expr:
        tok = self.peek()
        if tok is None:
            raise self.fail()
        start = self.i
        if tok.kind == "op" and tok.value == "(":
            self.i += 1
            inner = self.expr()
            self.expect(")")
            return Expr(inner.fn, self.span(start), aggregate=inner.aggregate)
        if tok.kind == "op" and tok.value == "-":
            self.i += 1
            inner = self._primary()
            return Expr(lambda r, e: None if (v := inner.fn(r, e)) is None else -_num(v), self.span(start))
        self.i += 1
        if tok.kind == "num":
            value: Any = Decimal(tok.value) if "." in tok.value else int(tok.value)
            return Expr(lambda r, e, v=value: v, tok.value)
        if tok.kind == "str":
            value = _unquote(tok.value)
            return Expr(lambda r, e, v=value: v, tok.value)
        if tok.kind == "sysvar":
            name = tok.value[2:].lower().split(".")[-1]
            return Expr(lambda r, e, n=name: e["sysvar"](n), tok.value)
        if tok.kind != "ident":
            self.i -= 1
            raise self.fail()
        word = tok.word
        if word == "null":
            return Expr(lambda r, e: None, tok.value)
        if word in ("true", "false"):
            return Expr(lambda r, e, v=int(word == "true"): v, tok.value)
        if self.take("("):
            return self._call(word, start)
        name = tok.value
        while self.take("."):  # table.column
            nxt = self.peek()
            if nxt is None or nxt.kind != "ident":
                raise self.fail()
            self.i += 1
            name = nxt.value
        column = self.columns(name)
        return Expr(lambda r, e, c=column: r.get(c), self.span(start), column=column)

    def _call(self, fn: str, start: int) -> Expr:
        if fn in AGGREGATES:
            if fn == "count" and self.take("*"):
                self.expect(")")
                return Expr(lambda r, e: None, self.span(start), aggregate=lambda rows, e: len(rows))
            arg = self.expr()
            self.expect(")")
            return Expr(lambda r, e: None, self.span(start), aggregate=_aggregate(fn, arg))
        args: list[Expr] = []
        if fn == "timestampdiff":
            unit = self.peek()
            if unit is None or unit.word not in ("second", "minute"):
                raise self.fail()
            self.i += 1
            self.expect(",")
            scale = 1 if unit.word == "second" else 60
            a = self.expr()
            self.expect(",")
            b = self.expr()
            self.expect(")")
            return Expr(lambda r, e: _diff(a.fn(r, e), b.fn(r, e), scale), self.span(start))
        if not self.take(")"):
            args.append(self.expr())
            while self.take(","):
                args.append(self.expr())
            self.expect(")")
        impl = FUNCTIONS.get(fn)
        if impl is None:
            raise SqlError(1305, "42000", f"FUNCTION {fn} does not exist")
        return Expr(lambda r, e: impl(e, *(a.fn(r, e) for a in args)), self.span(start))


def _binary(left: Expr, right: Expr, op: Callable[[Any, Any], Any]) -> Expr:
    return Expr(lambda r, e: op(left.fn(r, e), right.fn(r, e)), "")


def _times(op: str, a: Any, b: Any) -> Any:
    if a is None or b is None:
        return None
    if op == "*":
        return _num(a) * _num(b)
    return None if _num(b) == 0 else Decimal(_num(a)) / Decimal(_num(b))


def _aggregate(fn: str, arg: Expr) -> Callable[[list[Row], Env], Any]:
    def run(rows: list[Row], env: Env) -> Any:
        values = [v for v in (arg.fn(r, env) for r in rows) if v is not None]
        if fn == "count":
            return len(values)
        if not values:
            return None
        if fn == "max":
            return max(values, key=_cmp_key)
        if fn == "min":
            return min(values, key=_cmp_key)
        total = sum((Decimal(str(_num(v))) for v in values), Decimal(0))
        return total if fn == "sum" else total / len(values)
    return run


def _diff(a: Any, b: Any, scale: int) -> Any:
    if not isinstance(a, datetime) or not isinstance(b, datetime):
        return None
    return int((b - a).total_seconds() // scale)


def _substring(env: Env, s: Any, pos: Any = 1, n: Any = None) -> Any:
    if s is None:
        return None
    start = int(pos) - 1 if int(pos) > 0 else len(str(s)) + int(pos)
    return str(s)[start:] if n is None else str(s)[start:start + int(n)]


def _substring_index(env: Env, s: Any, delim: Any, count: Any) -> Any:
    if s is None:
        return None
    parts, n = str(s).split(str(delim)), int(count)
    return str(delim).join(parts[:n] if n >= 0 else parts[n:])


FUNCTIONS: dict[str, Callable[..., Any]] = {
    "connection_id": lambda env: env["connection_id"],
    "now": lambda env: env["now"],
    "current_timestamp": lambda env: env["now"],
    "unix_timestamp": lambda env: int(env["now"].timestamp()),
    "version": lambda env: VERSION,
    "database": lambda env: env.get("database"),
    "user": lambda env: env["user"],
    "current_user": lambda env: env["user"],
    "coalesce": lambda env, *a: next((v for v in a if v is not None), None),
    "ifnull": lambda env, a, b: b if a is None else a,
    "substring": _substring,
    "substr": _substring,
    "substring_index": _substring_index,
    "lower": lambda env, s: None if s is None else str(s).lower(),
    "upper": lambda env, s: None if s is None else str(s).upper(),
    "length": lambda env, s: None if s is None else len(str(s).encode()),
    "round": lambda env, v, d=0: None if v is None else round(Decimal(str(_num(v))), int(d)),
}


# ====================================================================== SQL: SELECT


@dataclass(slots=True)
class Table:
    """A simulated table: column definitions and the rows of the moment."""

    schema: str
    name: str
    columns: list[Col]
    rows: Callable[[Env], list[Row]]

    def column(self, name: str) -> str:
        for c in self.columns:
            if c.name.lower() == name.lower():
                return c.name
        raise SqlError(1054, "42S22", f"Unknown column '{name}' in 'field list'")


def _type_of(values: Iterable[Any], name: str) -> Col:
    for v in values:
        if v is None:
            continue
        if isinstance(v, bool | int):
            return number(name, T_LONGLONG, 21)
        if isinstance(v, Decimal):
            exp = v.as_tuple().exponent
            scale = -exp if isinstance(exp, int) and exp < 0 else 0
            return Col(name, T_NEWDECIMAL, 44, 0, scale, BINARY)
        if isinstance(v, float):
            return number(name, T_DOUBLE, 22, decimals=31)
        if isinstance(v, datetime):
            return Col(name, T_DATETIME, 19, BINARY_FLAG, 0, BINARY)
        return text(name, 1600)
    return text(name, 0)


def run_select(sql: str, tables: dict[str, Table], env: Env) -> Result:
    """SELECT items [FROM table [WHERE] [GROUP BY] [ORDER BY] [LIMIT]] over the simulated tables."""
    p = Parser(sql)
    p.expect("select")
    item_start = p.i
    # Find the table first, so column names resolve against it.
    depth, j = 0, p.i
    table: Table | None = None
    while j < len(p.toks):
        tok = p.toks[j]
        if tok.kind == "op" and tok.value == "(":
            depth += 1
        elif tok.kind == "op" and tok.value == ")":
            depth -= 1
        elif depth == 0 and tok.word == "from":
            table = _resolve_table(p.toks[j + 1:], tables, sql)
            break
        j += 1
    p.columns = table.column if table is not None else (lambda name: _unknown_column(name, "field list"))
    items: list[tuple[Expr, str]] = []
    star = False
    while True:
        if p.take("*"):
            star = True
        else:
            e = p.expr()
            alias = e.text
            if p.take("as"):
                tok = p.peek()
                if tok is None or tok.kind not in ("ident", "str"):
                    raise p.fail()
                p.i += 1
                alias = _unquote(tok.value) if tok.kind == "str" else tok.value
            elif (tok := p.peek()) is not None and tok.kind == "ident" and tok.word not in (
                    "from", "where", "group", "order", "limit"):
                p.i += 1
                alias = tok.value
            items.append((e, alias))
        if not p.take(","):
            break
    if item_start == p.i:
        raise p.fail()
    rows: list[Row] = [{}]
    if p.take("from"):
        assert table is not None
        p.i += 1
        while p.take("."):
            p.i += 1
        rows = table.rows(env)
    if star:
        if table is None:
            raise syntax_error("*")
        items = [(Expr(lambda r, e, c=c.name: r.get(c), c.name, column=c.name), c.name)
                 for c in table.columns] + items
    aliases = {alias.lower(): e for e, alias in items}
    if p.take("where"):
        cond = p.expr()
        rows = [r for r in rows if _truth(cond.fn(r, env))]
    groups: list[list[Row]]
    if p.take("group", "by"):
        keys = [_group_key(p, aliases)]
        while p.take(","):
            keys.append(_group_key(p, aliases))
        grouped: dict[tuple[Any, ...], list[Row]] = {}
        for r in rows:
            grouped.setdefault(tuple(_cmp_key(k.fn(r, env)) for k in keys), []).append(r)
        groups = list(grouped.values())
    elif any(e.aggregate is not None for e, _ in items):
        groups = [rows]
    else:
        groups = [[r] for r in rows]
    out = [(tuple(e.value(g, env) for e, _ in items), g) for g in groups]
    if p.take("order", "by"):
        orders: list[tuple[Callable[[Grouped], Any], bool]] = []
        while True:
            key = _order_key(p, items, env)
            desc = p.take("desc")
            if not desc:
                p.take("asc")
            orders.append((key, desc))
            if not p.take(","):
                break
        for key, desc in reversed(orders):
            out.sort(key=lambda o, key=key: (key(o) is not None, _cmp_key(key(o))), reverse=desc)
    if p.take("limit"):
        tok = p.peek()
        if tok is None or tok.kind != "num":
            raise p.fail()
        p.i += 1
        out = out[:int(tok.value)]
    if not p.done():
        raise p.fail()
    rows_out = [o[0] for o in out]
    columns = []
    for k, (e, alias) in enumerate(items):
        if table is not None and e.column is not None:
            base = next(c for c in table.columns if c.name == e.column)
            columns.append(base.named(alias))
        else:
            columns.append(_type_of((row[k] for row in rows_out), alias))
    return Result(columns, rows_out)


Grouped = tuple[tuple[Any, ...], list[Row]]
"""An output row and the group of source rows it came from."""


def _order_key(p: Parser, items: list[tuple[Expr, str]], env: Env) -> Callable[[Grouped], Any]:
    """One ORDER BY term: a position, an alias, an item's text or any expression over the group."""
    tok = p.peek()
    if tok is not None and tok.kind == "num":
        p.i += 1
        return lambda o, k=int(tok.value) - 1: o[0][k]
    nxt = p.peek(1)
    if tok is not None and tok.kind == "ident" and (
            nxt is None or nxt.value == "," or nxt.word in ("asc", "desc", "limit")):
        named = next((k for k, (_, a) in enumerate(items) if a.lower() == tok.value.lower()), -1)
        if named >= 0:
            p.i += 1
            return lambda o, k=named: o[0][k]
    e = p.expr()
    index = next((k for k, (x, a) in enumerate(items) if e.text.lower() in (a.lower(), x.text.lower())), -1)
    if index >= 0:
        return lambda o, k=index: o[0][k]
    return lambda o: e.value(o[1], env)


def _group_key(p: Parser, aliases: dict[str, Expr]) -> Expr:
    tok = p.peek()
    if tok is not None and tok.kind == "ident" and tok.value.lower() in aliases and (
            (nxt := p.peek(1)) is None or (nxt.kind == "op" and nxt.value == ",") or nxt.kind == "ident"):
        p.i += 1
        return aliases[tok.value.lower()]
    return p.expr()


def _resolve_table(toks: Sequence[Tok], tables: dict[str, Table], sql: str) -> Table:
    if not toks or toks[0].kind != "ident":
        raise syntax_error(sql[toks[0].pos:] if toks else "")
    name = toks[0].value
    schema = "information_schema"  # the demo's monitoring user has no default database
    if len(toks) >= 3 and toks[1].value == "." and toks[2].kind == "ident":
        schema, name = name, toks[2].value
    table = tables.get(f"{schema}.{name}".lower())
    if table is not None:
        return table
    if schema.lower() == "information_schema":
        raise SqlError(1109, "42S02", f"Unknown table '{name}' in information_schema")
    raise SqlError(1146, "42S02", f"Table '{schema}.{name}' doesn't exist")


# ====================================================================== SHOW columns (as MariaDB 10.11)

_SLAVE_COLUMNS = [
    ("Slave_IO_State", "s"), ("Master_Host", "s"), ("Master_User", "s"), ("Master_Port", "i"),
    ("Connect_Retry", "i"), ("Master_Log_File", "s"), ("Read_Master_Log_Pos", "I"), ("Relay_Log_File", "s"),
    ("Relay_Log_Pos", "I"), ("Relay_Master_Log_File", "s"), ("Slave_IO_Running", "s"),
    ("Slave_SQL_Running", "s"), ("Replicate_Do_DB", "s"), ("Replicate_Ignore_DB", "s"),
    ("Replicate_Do_Table", "s"), ("Replicate_Ignore_Table", "s"), ("Replicate_Wild_Do_Table", "s"),
    ("Replicate_Wild_Ignore_Table", "s"), ("Last_Errno", "i"), ("Last_Error", "s"), ("Skip_Counter", "i"),
    ("Exec_Master_Log_Pos", "I"), ("Relay_Log_Space", "I"), ("Until_Condition", "s"), ("Until_Log_File", "s"),
    ("Until_Log_Pos", "I"), ("Master_SSL_Allowed", "s"), ("Master_SSL_CA_File", "s"),
    ("Master_SSL_CA_Path", "s"), ("Master_SSL_Cert", "s"), ("Master_SSL_Cipher", "s"),
    ("Master_SSL_Key", "s"),
    ("Seconds_Behind_Master", "I"), ("Master_SSL_Verify_Server_Cert", "s"), ("Last_IO_Errno", "i"),
    ("Last_IO_Error", "s"), ("Last_SQL_Errno", "i"), ("Last_SQL_Error", "s"),
    ("Replicate_Ignore_Server_Ids", "s"), ("Master_Server_Id", "i"), ("Master_SSL_Crl", "s"),
    ("Master_SSL_Crlpath", "s"), ("Using_Gtid", "s"), ("Gtid_IO_Pos", "s"), ("Replicate_Do_Domain_Ids", "s"),
    ("Replicate_Ignore_Domain_Ids", "s"), ("Parallel_Mode", "s"), ("SQL_Delay", "i"),
    ("SQL_Remaining_Delay", "i"), ("Slave_SQL_Running_State", "s"), ("Slave_DDL_Groups", "I"),
    ("Slave_Non_Transactional_Groups", "I"), ("Slave_Transactional_Groups", "I"),
    ("Replicate_Rewrite_DB", "s"),
]
_ALL_SLAVES_EXTRA = [("Retried_transactions", "i"), ("Max_relay_log_size", "I"),
                     ("Executed_log_entries", "i"), ("Slave_received_heartbeats", "i"),
                     ("Slave_heartbeat_period", "d"), ("Gtid_Slave_Pos", "s")]
_ALL_SLAVES_SKIP = {"Master_SSL_Allowed", "Master_SSL_CA_File", "Master_SSL_CA_Path", "Master_SSL_Cert",
                    "Master_SSL_Cipher", "Master_SSL_Key", "Master_SSL_Verify_Server_Cert", "Master_SSL_Crl",
                    "Master_SSL_Crlpath", "Replicate_Do_DB", "Replicate_Ignore_DB", "Replicate_Do_Table",
                    "Replicate_Ignore_Table", "Replicate_Wild_Do_Table", "Replicate_Wild_Ignore_Table",
                    "Replicate_Ignore_Server_Ids", "Replicate_Do_Domain_Ids", "Replicate_Ignore_Domain_Ids",
                    "Replicate_Rewrite_DB"}
SLAVE_STATUS_COLUMNS = [show_col(n, k) for n, k in _SLAVE_COLUMNS]
ALL_SLAVES_COLUMNS = ([show_col("Connection_name", "s"), show_col("Slave_SQL_State", "s")]
                      + [show_col(n, k) for n, k in _SLAVE_COLUMNS if n not in _ALL_SLAVES_SKIP]
                      + [show_col(n, k) for n, k in _ALL_SLAVES_EXTRA])
MASTER_STATUS_COLUMNS = [show_col("File", "s"), show_col("Position", "I"), show_col("Binlog_Do_DB", "s"),
                         show_col("Binlog_Ignore_DB", "s")]
WARNINGS_COLUMNS = [show_col("Level", "s"), show_col("Code", "i"), show_col("Message", "s")]

_PROCESSLIST_COLUMNS = [
    table_col("PROCESSLIST", "ID", T_LONGLONG, 4), table_col("PROCESSLIST", "USER", T_VAR_STRING, 512),
    table_col("PROCESSLIST", "HOST", T_VAR_STRING, 256), table_col("PROCESSLIST", "DB", T_VAR_STRING, 256, 0),
    table_col("PROCESSLIST", "COMMAND", T_VAR_STRING, 64), table_col("PROCESSLIST", "TIME", T_LONG, 7),
    table_col("PROCESSLIST", "STATE", T_VAR_STRING, 256, 0),
    table_col("PROCESSLIST", "INFO", T_BLOB, 786420, 16),
    table_col("PROCESSLIST", "TIME_MS", T_NEWDECIMAL, 24, decimals=3),
    table_col("PROCESSLIST", "STAGE", T_LONG, 2), table_col("PROCESSLIST", "MAX_STAGE", T_LONG, 2),
    table_col("PROCESSLIST", "PROGRESS", T_NEWDECIMAL, 9, decimals=3),
    table_col("PROCESSLIST", "MEMORY_USED", T_LONGLONG, 7),
    table_col("PROCESSLIST", "MAX_MEMORY_USED", T_LONGLONG, 7),
    table_col("PROCESSLIST", "EXAMINED_ROWS", T_LONG, 7), table_col("PROCESSLIST", "QUERY_ID", T_LONGLONG, 4),
    table_col("PROCESSLIST", "TID", T_LONGLONG, 4),
]
_TRX_COLUMNS = [
    table_col("INNODB_TRX", "trx_id", T_LONGLONG, 21), table_col("INNODB_TRX", "trx_state", T_VAR_STRING, 52),
    table_col("INNODB_TRX", "trx_started", T_DATETIME, 19),
    table_col("INNODB_TRX", "trx_wait_started", T_DATETIME, 19, 0),
    table_col("INNODB_TRX", "trx_weight", T_LONGLONG, 21),
    table_col("INNODB_TRX", "trx_mysql_thread_id", T_LONGLONG, 21),
    table_col("INNODB_TRX", "trx_query", T_VAR_STRING, 4096, 0),
    table_col("INNODB_TRX", "trx_operation_state", T_VAR_STRING, 256, 0),
    table_col("INNODB_TRX", "trx_tables_in_use", T_LONGLONG, 21),
    table_col("INNODB_TRX", "trx_tables_locked", T_LONGLONG, 21),
    table_col("INNODB_TRX", "trx_rows_locked", T_LONGLONG, 21),
    table_col("INNODB_TRX", "trx_rows_modified", T_LONGLONG, 21),
    table_col("INNODB_TRX", "trx_isolation_level", T_VAR_STRING, 64),
]
_TABLESPACE_COLUMNS = [
    table_col("INNODB_SYS_TABLESPACES", "SPACE", T_LONG, 11),
    table_col("INNODB_SYS_TABLESPACES", "NAME", T_VAR_STRING, 2000),
    table_col("INNODB_SYS_TABLESPACES", "FLAG", T_LONG, 11),
    table_col("INNODB_SYS_TABLESPACES", "ROW_FORMAT", T_VAR_STRING, 88, 0),
    table_col("INNODB_SYS_TABLESPACES", "PAGE_SIZE", T_LONG, 11),
    table_col("INNODB_SYS_TABLESPACES", "FILE_SIZE", T_LONGLONG, 21),
    table_col("INNODB_SYS_TABLESPACES", "ALLOCATED_SIZE", T_LONGLONG, 21),
]
_TABLES_COLUMNS = [
    table_col("TABLES", n, t, ln, f)
    for n, t, ln, f in (("TABLE_CATALOG", T_VAR_STRING, 2048, NOT_NULL),
                        ("TABLE_SCHEMA", T_VAR_STRING, 256, NOT_NULL),
                        ("TABLE_NAME", T_VAR_STRING, 256, NOT_NULL),
                        ("TABLE_TYPE", T_VAR_STRING, 256, NOT_NULL),
                        ("ENGINE", T_VAR_STRING, 256, 0), ("TABLE_ROWS", T_LONGLONG, 21, 32),
                        ("DATA_LENGTH", T_LONGLONG, 21, 32), ("INDEX_LENGTH", T_LONGLONG, 21, 32),
                        ("DATA_FREE", T_LONGLONG, 21, 32))
]
_DIGEST_COLUMNS = [
    table_col("events_statements_summary_by_digest", n, t, ln, f, schema="performance_schema")
    for n, t, ln, f in (("SCHEMA_NAME", T_VAR_STRING, 256, 0), ("DIGEST", T_VAR_STRING, 128, 0),
                        ("DIGEST_TEXT", T_BLOB, 4294967295, 16), ("COUNT_STAR", T_LONGLONG, 20, 32),
                        ("SUM_TIMER_WAIT", T_LONGLONG, 20, 32), ("MIN_TIMER_WAIT", T_LONGLONG, 20, 32),
                        ("AVG_TIMER_WAIT", T_LONGLONG, 20, 32), ("MAX_TIMER_WAIT", T_LONGLONG, 20, 32),
                        ("SUM_ROWS_SENT", T_LONGLONG, 20, 32), ("SUM_ROWS_EXAMINED", T_LONGLONG, 20, 32))
]
_VARS_COLUMNS = ("VARIABLE_NAME", "VARIABLE_VALUE")


# ====================================================================== the simulated servers


_APP_QUERIES = (
    "SELECT id, status, total FROM orders WHERE customer_id = 48213 ORDER BY created_at DESC LIMIT 20",
    "UPDATE carts SET updated_at = NOW() WHERE session_id = 'f3a9c2'",
    "INSERT INTO order_items (order_id, sku, qty, price) VALUES (912837, 'SKU-1182', 1, 19.90)",
    "SELECT p.id, p.name, s.qty FROM products p JOIN stock s ON s.product_id = p.id WHERE p.category_id = 7",
    "SELECT COUNT(*) FROM sessions WHERE expires_at > NOW()",
)
_LONG_QUERIES = (
    "SELECT c.id, c.email, SUM(o.total) AS spent FROM customers c JOIN orders o ON o.customer_id = c.id "
    "WHERE o.created_at >= '2026-01-01' GROUP BY c.id, c.email ORDER BY spent DESC",
    "ALTER TABLE order_items ADD INDEX idx_sku_created (sku, created_at)",
    "DELETE FROM sessions WHERE expires_at < NOW() - INTERVAL 30 DAY",
)
_DIGESTS = (
    ("SELECT `id` , `status` , `total` FROM `orders` WHERE `customer_id` = ? "
     "ORDER BY `created_at` DESC LIMIT ?", 120.0, 0.4),
    ("UPDATE `carts` SET `updated_at` = NOW ( ) WHERE `session_id` = ?", 60.0, 0.3),
    ("INSERT INTO `order_items` ( `order_id` , `sku` , `qty` , `price` ) VALUES (...)", 35.0, 0.5),
    ("SELECT `p` . `id` , `p` . `name` , `s` . `qty` FROM `products` `p` JOIN `stock` `s` ON `s` . "
     "`product_id` = `p` . `id` WHERE `p` . `category_id` = ?", 80.0, 1.8),
    ("SELECT COUNT ( * ) FROM `sessions` WHERE `expires_at` > NOW ( )", 4.0, 12.0),
    ("COMMIT", 95.0, 0.2),
)
_SHOP_TABLES = (("orders", 3_100_000, 1.9 * GB, 0.6 * GB), ("order_items", 9_400_000, 2.6 * GB, 1.1 * GB),
                ("customers", 410_000, 180 * MB, 90 * MB), ("products", 12_000, 24 * MB, 6 * MB),
                ("stock", 12_000, 2 * MB, 1 * MB), ("carts", 88_000, 40 * MB, 12 * MB),
                ("sessions", 260_000, 310 * MB, 70 * MB))


@dataclass
class SimServer:
    """One simulated MariaDB: its variables, counters, sessions and (for the replica) replication."""

    name: str
    server_id: int
    read_only: bool
    started: float
    port: int = 0
    questions: float = 0.0
    slow_queries: float = 0.0
    bp_read_requests: float = 0.0
    bp_reads: float = 0.0
    threads_connected: float = 20.0
    threads_running: int = 2
    row_lock_waits: int = 0
    binlog_file: int = 42
    binlog_pos: float = 0.0
    gtid_seq: float = 0.0
    sessions: list[Row] = field(default_factory=list)
    transactions: list[Row] = field(default_factory=list)
    digests: dict[str, list[float]] = field(default_factory=dict)
    long_query: tuple[str, float] | None = None
    replica: ReplicaState | None = None


@dataclass
class ReplicaState:
    """What SHOW SLAVE STATUS shows: lag, positions, and the SQL thread's errors."""

    lag: float = 1.0
    sql_running: bool = True
    error_until: float = 0.0
    next_error: float = 0.0
    stalled_at: tuple[int, float, float] | None = None
    """(binlog file, position, gtid seq) executed when the SQL thread stopped."""
    exec_file: int = 42
    exec_pos: float = 0.0
    exec_seq: float = 0.0
    last_sql_errno: int = 0
    last_sql_error: str = ""
    heartbeats: int = 0
    executed_entries: float = 0.0


class MariadbPair:
    """A primary and its replica, and their life."""

    def __init__(self, *, seed: int = 1, clock: Callable[[], float] = time.time) -> None:
        self.rng = random.Random(seed)
        self.clock = clock
        now = clock()
        self._last = now
        self.primary = SimServer("primary", 1, False, now - 12 * 86400)
        self.replica = SimServer("replica", 2, True, now - 12 * 86400 + 300, replica=ReplicaState())
        p, r = self.primary, self.replica
        p.questions, p.slow_queries = 1.82e9, 1843.0
        p.bp_read_requests, p.bp_reads = 9.1e11, 4.2e8
        r.questions, r.slow_queries = 4.1e8, 77.0
        r.bp_read_requests, r.bp_reads = 2.2e11, 1.9e8
        p.binlog_pos = 412_000_000.0 + self.rng.randrange(0, 1 << 20)
        p.gtid_seq = 48_213_000.0 + self.rng.randrange(0, 1000)
        r.binlog_pos, r.gtid_seq = 8_204_113.0, 0.0
        r.threads_connected = 8.0
        self.trx_rate = 120.0
        self.events: list[str] = []
        self._history: deque[tuple[float, int, float, float]] = deque(maxlen=4000)
        rs = r.replica
        assert rs is not None
        rs.next_error = now + self.rng.uniform(60, 150)
        rs.exec_file, rs.exec_pos, rs.exec_seq = p.binlog_file, p.binlog_pos, p.gtid_seq
        rs.executed_entries = 3.4e7
        r.gtid_seq = rs.exec_seq
        self._next_long = now + self.rng.uniform(20, 60)
        for server in (p, r):
            for text_, calls, ms in _DIGESTS:
                share = 1.0 if server is p or text_.startswith("SELECT") else 0.0
                server.digests[text_] = [calls * 20000 * share, calls * 20000 * share * ms * 1e9]
        self._history.append((now, p.binlog_file, p.binlog_pos, p.gtid_seq))
        self._sessions(p, now)
        self._sessions(r, now)

    # -- life
    def step(self, dt: float | None = None) -> None:
        now = self.clock()
        if dt is None:
            dt = max(0.0, now - self._last)
        self._last = now
        rng = self.rng
        p, r = self.primary, self.replica
        rs = r.replica
        assert rs is not None
        self.trx_rate = min(600.0, max(15.0, self.trx_rate * math.exp(rng.gauss(0, 0.2) * math.sqrt(dt))))
        trx = self.trx_rate * dt
        p.gtid_seq += trx
        p.binlog_pos += trx * rng.uniform(700, 1300)
        if p.binlog_pos >= MAX_BINLOG_SIZE:
            p.binlog_file += 1
            p.binlog_pos = 256 + (p.binlog_pos - MAX_BINLOG_SIZE)
        self._history.append((now, p.binlog_file, p.binlog_pos, p.gtid_seq))
        for server, reads in ((p, 6.0), (r, 2.0)):
            qps = self.trx_rate * reads * rng.uniform(0.8, 1.2)
            server.questions += qps * dt
            server.slow_queries += 1 if rng.random() < 1 - math.exp(-0.03 * dt) else 0
            requests = qps * dt * rng.uniform(30, 60)
            server.bp_read_requests += requests
            server.bp_reads += requests * rng.uniform(0.0005, 0.006)
            low, high = (12, 90) if server is p else (4, 30)
            drift = rng.gauss(0, 2) * math.sqrt(dt)
            server.threads_connected = min(high, max(low, server.threads_connected + drift))
            server.threads_running = max(1, min(int(server.threads_connected), int(rng.expovariate(0.4)) + 1))
            server.row_lock_waits = rng.choice((0, 0, 0, 0, 0, 0, 1, 2)) if server is p else 0
            for text_, calls, ms in _DIGESTS:
                if server is r and not text_.startswith("SELECT"):
                    continue
                n = calls * dt * rng.uniform(0.7, 1.3)
                d = server.digests[text_]
                d[0] += n
                d[1] += n * ms * 1e9 * rng.uniform(0.8, 1.4)
        # The replica: lag wanders (mean reverting around 2 s), the SQL thread sometimes stops.
        if rs.sql_running and now >= rs.next_error:
            rs.sql_running = False
            rs.error_until = now + rng.uniform(15, 40)
            rs.stalled_at = (rs.exec_file, rs.exec_pos, rs.exec_seq)
            key = int(p.gtid_seq) % 90000 + 10000
            rs.last_sql_errno = 1062
            rs.last_sql_error = (f"Could not execute Write_rows_v1 event on table shop.orders; "
                                 f"Duplicate entry '{key}' for key 'PRIMARY', Error_code: 1062; "
                                 f"handler error HA_ERR_FOUND_DUPP_KEY; the event's master log "
                                 f"mysql-bin.{rs.exec_file:06d}, end_log_pos {int(rs.exec_pos) + 731}")
            self.events.append("replica SQL thread stopped: 1062")
        elif not rs.sql_running and now >= rs.error_until:
            rs.sql_running = True
            rs.last_sql_errno, rs.last_sql_error = 0, ""
            rs.lag = min(30.0, now - self._time_of(rs.exec_seq))
            rs.stalled_at = None
            rs.next_error = now + rng.uniform(180, 420)
            self.events.append("replica SQL thread running again")
        if rs.sql_running:
            target = 2.0 + (rng.expovariate(0.3) if rng.random() < 0.1 * dt else 0.0)
            rs.lag += (target - rs.lag) * min(1.0, 0.15 * dt) + rng.gauss(0, 0.8) * math.sqrt(dt)
            rs.lag = min(30.0, max(0.0, rs.lag))
            f, pos, seq = self._position_at(now - rs.lag)
            if seq >= rs.exec_seq:
                rs.executed_entries += (seq - rs.exec_seq) * 3
                rs.exec_file, rs.exec_pos, rs.exec_seq = f, pos, seq
        rs.heartbeats += int(dt // 30) + (1 if rng.random() < (dt % 30) / 30 else 0)
        r.gtid_seq = rs.exec_seq
        r.binlog_pos += dt * 40  # the replica writes its own binlog only for its own events
        if now >= self._next_long and p.long_query is None:
            p.long_query = (rng.choice(_LONG_QUERIES), now)
            self._next_long = now + rng.uniform(90, 240)
        if p.long_query is not None and now - p.long_query[1] > 75:
            p.long_query = None
        self._sessions(p, now)
        self._sessions(r, now)

    def _position_at(self, t: float) -> tuple[int, float, float]:
        best = self._history[0]
        for entry in self._history:
            if entry[0] > t:
                break
            best = entry
        return best[1], best[2], best[3]

    def _time_of(self, seq: float) -> float:
        for entry in self._history:
            if entry[3] >= seq:
                return entry[0]
        return self._history[-1][0]

    def _sessions(self, s: SimServer, now: float) -> None:
        """The processlist's simulated application sessions and server threads."""
        rng = self.rng
        rows: list[Row] = []
        base_id = 100 if s is self.primary else 50
        if s.replica is not None:
            rs = s.replica
            rows.append(_thread(5, "system user", "", None, "Slave_IO", 86000,
                                "Waiting for master to send event"))
            rows.append(_thread(6, "system user", "", None, "Slave_SQL", 86000,
                                "Slave has read all relay log; waiting for more updates" if rs.sql_running and
                                rs.lag < 1 else "Reading event from the relay log" if rs.sql_running else ""))
        else:
            rows.append(_thread(5, "repl", "10.0.1.12:40112", None, "Binlog Dump", 86000,
                                "Master has sent all binlog to slave; waiting for more updates"))
        clients = max(0, int(s.threads_connected) - len(rows) - 1)
        running = max(0, s.threads_running - 1)
        for k in range(clients):
            sid = base_id + k * 7 + 1
            host = f"10.0.2.{11 + k % 5}:{41000 + k * 13}"
            if k < running:
                rows.append(_thread(sid, "app", host, "shop", "Query", int(rng.uniform(0, 2)),
                                    rng.choice(("Sending data", "Updating", "Sorting result")),
                                    rng.choice(_APP_QUERIES), ms=rng.uniform(0.2, 900)))
            else:
                rows.append(_thread(sid, "app", host, "shop", "Sleep", int(rng.uniform(0, 40)), "", None))
        if s is self.primary and s.long_query is not None:
            query, since = s.long_query
            state = "Waiting for table metadata lock" if query.startswith("DELETE") else "Sending data"
            rows.append(_thread(base_id + 997, "report", "10.0.3.4:51000", "shop", "Query", int(now - since),
                                state, query, ms=(now - since) * 1000))
        s.sessions = rows
        trx = []
        for row in rows:
            writes = not str(row["INFO"]).startswith("SELECT")
            if row["COMMAND"] == "Query" and row["DB"] == "shop" and writes:
                started = datetime.fromtimestamp(now - float(row["TIME_MS"]) / 1000).replace(microsecond=0)
                trx.append({"trx_id": 9_000_000 + row["ID"], "trx_state": "RUNNING", "trx_started": started,
                            "trx_wait_started": None, "trx_weight": 2, "trx_mysql_thread_id": row["ID"],
                            "trx_query": row["INFO"], "trx_operation_state": None, "trx_tables_in_use": 1,
                            "trx_tables_locked": 1, "trx_rows_locked": 1, "trx_rows_modified": 1,
                            "trx_isolation_level": "REPEATABLE READ"})
        s.transactions = trx

    # -- what each server answers
    def status(self, s: SimServer) -> list[tuple[str, str]]:
        now = self.clock()
        values = [
            ("Aborted_clients", 12), ("Aborted_connects", 3), ("Bytes_received", int(s.questions * 210)),
            ("Bytes_sent", int(s.questions * 1900)), ("Com_commit", int(s.questions * 0.08)),
            ("Com_delete", int(s.questions * 0.01)), ("Com_insert", int(s.questions * 0.05)),
            ("Com_select", int(s.questions * 0.62)), ("Com_update", int(s.questions * 0.09)),
            ("Connections", 18234 + int(s.questions / 90000)),
            ("Innodb_buffer_pool_pages_data", 491000), ("Innodb_buffer_pool_pages_free", 1024),
            ("Innodb_buffer_pool_read_requests", int(s.bp_read_requests)),
            ("Innodb_buffer_pool_reads", int(s.bp_reads)), ("Innodb_buffer_pool_wait_free", 0),
            ("Innodb_row_lock_current_waits", s.row_lock_waits), ("Innodb_row_lock_waits", 5312),
            ("Max_used_connections", 131), ("Open_tables", 1843), ("Opened_tables", 2210),
            ("Queries", int(s.questions * 1.004)), ("Questions", int(s.questions)),
            ("Rpl_semi_sync_master_status", "OFF"), ("Select_full_join", 211),
            ("Slave_running", "ON" if s.replica is not None else "OFF"),
            ("Slow_queries", int(s.slow_queries)), ("Threads_cached", 6),
            ("Threads_connected", int(s.threads_connected)), ("Threads_created", 402),
            ("Threads_running", s.threads_running), ("Uptime", int(now - s.started)),
            ("Uptime_since_flush_status", int(now - s.started)),
            ("wsrep", 0), ("wsrep_applier_thread_count", 0), ("wsrep_cluster_capabilities", ""),
            ("wsrep_cluster_conf_id", 18446744073709551615), ("wsrep_cluster_size", 0),
            ("wsrep_cluster_state_uuid", ""), ("wsrep_cluster_status", "Disconnected"),
            ("wsrep_connected", "OFF"),
            ("wsrep_local_bf_aborts", 0), ("wsrep_local_index", 18446744073709551615),
            ("wsrep_provider_capabilities", ""), ("wsrep_provider_name", ""), ("wsrep_provider_vendor", ""),
            ("wsrep_provider_version", ""), ("wsrep_ready", "OFF"), ("wsrep_rollbacker_thread_count", 0),
            ("wsrep_thread_count", 0),
        ]
        return [(k, str(v)) for k, v in values]

    def gtid_binlog_pos(self, s: SimServer) -> str:
        return f"0-1-{int(self.primary.gtid_seq)}" if s is self.primary else ""

    def gtid_slave_pos(self, s: SimServer) -> str:
        return f"0-1-{int(self.replica.gtid_seq)}" if s is self.replica else ""

    def variables(self, s: SimServer) -> dict[str, Any]:
        """Global variables, typed as SELECT @@name returns them."""
        gtid_current = self.gtid_binlog_pos(s) or self.gtid_slave_pos(s)
        return {
            "version": VERSION, "version_comment": "stacktop demo", "version_compile_os": "debian-linux-gnu",
            "hostname": f"db-{s.name}", "port": s.port, "server_id": s.server_id,
            "read_only": int(s.read_only),
            "super_read_only": 0, "max_connections": 500, "max_user_connections": 0,
            "gtid_slave_pos": self.gtid_slave_pos(s), "gtid_binlog_pos": self.gtid_binlog_pos(s),
            "gtid_current_pos": gtid_current, "gtid_domain_id": 0, "gtid_strict_mode": 1,
            "log_bin": 1, "log_slave_updates": 0, "binlog_format": "ROW", "max_binlog_size": MAX_BINLOG_SIZE,
            "performance_schema": 1, "innodb_buffer_pool_size": 8 * GB, "max_statement_time": 0,
            "wait_timeout": 28800, "interactive_timeout": 28800, "autocommit": 1, "sql_mode":
            "STRICT_TRANS_TABLES,ERROR_FOR_DIVISION_BY_ZERO,NO_AUTO_CREATE_USER,NO_ENGINE_SUBSTITUTION",
            "character_set_server": "utf8mb4", "collation_server": "utf8mb4_general_ci",
            "time_zone": "SYSTEM", "system_time_zone": "UTC", "tx_isolation": "REPEATABLE-READ",
            "transaction_isolation": "REPEATABLE-READ", "wsrep_on": 0, "lower_case_table_names": 0,
            "slave_parallel_threads": 0, "slave_parallel_mode": "optimistic",
            "rpl_semi_sync_master_enabled": 0,
        }

    def show_variables(self, s: SimServer) -> list[tuple[str, str]]:
        out = []
        for k, v in sorted(self.variables(s).items()):
            if k in ("read_only", "super_read_only", "log_bin", "log_slave_updates", "performance_schema",
                     "gtid_strict_mode", "autocommit", "wsrep_on", "rpl_semi_sync_master_enabled"):
                v = "ON" if v else "OFF"
            out.append((k, str(v)))
        return out

    def master_status(self, s: SimServer) -> list[tuple[Any, ...]]:
        return [(f"mysql-bin.{s.binlog_file:06d}", int(s.binlog_pos), "", "")]

    def replica_row(self, s: SimServer) -> dict[str, Any] | None:
        rs = s.replica
        if rs is None:
            return None
        p = self.primary
        read_pos = int(p.binlog_pos)
        exec_pos = int(rs.stalled_at[1] if rs.stalled_at else rs.exec_pos)
        exec_file = rs.stalled_at[0] if rs.stalled_at else rs.exec_file
        lag = None if not rs.sql_running else int(rs.lag)
        sql_state = ("" if not rs.sql_running else "Slave has read all relay log; waiting for more updates"
                     if rs.lag < 1 else "Reading event from the relay log")
        return {
            "Slave_IO_State": "Waiting for master to send event", "Master_Host": "127.0.0.1",
            "Master_User": "repl",
            "Master_Port": p.port, "Connect_Retry": 60, "Master_Log_File": f"mysql-bin.{p.binlog_file:06d}",
            "Read_Master_Log_Pos": read_pos, "Relay_Log_File": "relay-bin.000118",
            "Relay_Log_Pos": max(4, read_pos - 412_000_000 + 9_100_000),
            "Relay_Master_Log_File": f"mysql-bin.{exec_file:06d}", "Slave_IO_Running": "Yes",
            "Slave_SQL_Running": "Yes" if rs.sql_running else "No", "Last_Errno": rs.last_sql_errno,
            "Last_Error": rs.last_sql_error, "Skip_Counter": 0, "Exec_Master_Log_Pos": exec_pos,
            "Relay_Log_Space": max(4, read_pos - exec_pos) + 1_000_000, "Until_Condition": "None",
            "Until_Log_File": "", "Until_Log_Pos": 0, "Master_SSL_Allowed": "No",
            "Seconds_Behind_Master": lag, "Master_SSL_Verify_Server_Cert": "No", "Last_IO_Errno": 0,
            "Last_IO_Error": "", "Last_SQL_Errno": rs.last_sql_errno, "Last_SQL_Error": rs.last_sql_error,
            "Master_Server_Id": p.server_id, "Using_Gtid": "Slave_Pos",
            "Gtid_IO_Pos": f"0-1-{int(p.gtid_seq)}", "Parallel_Mode": "optimistic", "SQL_Delay": 0,
            "SQL_Remaining_Delay": None, "Slave_SQL_Running_State": sql_state, "Slave_DDL_Groups": 41,
            "Slave_Non_Transactional_Groups": 3, "Slave_Transactional_Groups": int(rs.exec_seq),
            "Connection_name": "", "Slave_SQL_State": sql_state, "Retried_transactions": 0,
            "Max_relay_log_size": GB, "Executed_log_entries": int(rs.executed_entries) % 4294967296,
            "Slave_received_heartbeats": rs.heartbeats, "Slave_heartbeat_period": Decimal("30.000"),
            "Gtid_Slave_Pos": self.gtid_slave_pos(s),
        }

    def tables(self, s: SimServer, live: Callable[[], list[Row]]) -> dict[str, Table]:
        """The information_schema and performance_schema tables of one server."""
        def processlist(env: Env) -> list[Row]:
            return s.sessions + live()

        def tablespaces(env: Env) -> list[Row]:
            rows = [{"SPACE": 0, "NAME": "innodb_system", "FLAG": 33, "ROW_FORMAT": "Dynamic",
                     "PAGE_SIZE": 16384, "FILE_SIZE": 79691776, "ALLOCATED_SIZE": 79691776}]
            for k, (name, _n, data, index) in enumerate(_SHOP_TABLES):
                size = int(data + index) + int(s.questions % 1000) * 16384
                rows.append({"SPACE": 10 + k, "NAME": f"shop/{name}", "FLAG": 33, "ROW_FORMAT": "Dynamic",
                             "PAGE_SIZE": 16384, "FILE_SIZE": size, "ALLOCATED_SIZE": size})
            rows.append({"SPACE": 3, "NAME": "mysql/innodb_table_stats", "FLAG": 33, "ROW_FORMAT": "Dynamic",
                         "PAGE_SIZE": 16384, "FILE_SIZE": 98304, "ALLOCATED_SIZE": 98304})
            return rows

        def tables_(env: Env) -> list[Row]:
            rows = [{"TABLE_CATALOG": "def", "TABLE_SCHEMA": "shop", "TABLE_NAME": name,
                     "TABLE_TYPE": "BASE TABLE", "ENGINE": "InnoDB", "TABLE_ROWS": n,
                     "DATA_LENGTH": int(data), "INDEX_LENGTH": int(index), "DATA_FREE": 4 * MB}
                    for name, n, data, index in _SHOP_TABLES]
            rows.append({"TABLE_CATALOG": "def", "TABLE_SCHEMA": "mysql", "TABLE_NAME": "user",
                         "TABLE_TYPE": "BASE TABLE", "ENGINE": "Aria", "TABLE_ROWS": 6, "DATA_LENGTH": 8192,
                         "INDEX_LENGTH": 8192, "DATA_FREE": 0})
            return rows

        def digests(env: Env) -> list[Row]:
            rows = []
            for text_, (count, total) in s.digests.items():
                if count < 1:
                    continue
                n = int(count)
                digest = hashlib.md5(text_.encode()).hexdigest()
                rows.append({"SCHEMA_NAME": "shop", "DIGEST": digest, "DIGEST_TEXT": text_, "COUNT_STAR": n,
                             "SUM_TIMER_WAIT": int(total), "MIN_TIMER_WAIT": int(total / n / 8),
                             "AVG_TIMER_WAIT": int(total / n), "MAX_TIMER_WAIT": int(total / n * 40),
                             "SUM_ROWS_SENT": n * 3, "SUM_ROWS_EXAMINED": n * 40})
            return rows

        status_rows = [{"VARIABLE_NAME": k, "VARIABLE_VALUE": v} for k, v in self.status(s)]
        return {
            "information_schema.processlist": Table("information_schema", "PROCESSLIST", _PROCESSLIST_COLUMNS,
                                                    processlist),
            "information_schema.innodb_trx": Table("information_schema", "INNODB_TRX", _TRX_COLUMNS,
                                                   lambda env: s.transactions),
            "information_schema.innodb_sys_tablespaces": Table("information_schema", "INNODB_SYS_TABLESPACES",
                                                               _TABLESPACE_COLUMNS, tablespaces),
            "information_schema.tables": Table("information_schema", "TABLES", _TABLES_COLUMNS, tables_),
            "information_schema.global_status": Table(
                "information_schema", "GLOBAL_STATUS",
                [table_col("GLOBAL_STATUS", c, T_VAR_STRING, 2048) for c in _VARS_COLUMNS],
                lambda env: status_rows),
            "performance_schema.events_statements_summary_by_digest": Table(
                "performance_schema", "events_statements_summary_by_digest", _DIGEST_COLUMNS, digests),
        }


def _thread(tid: int, user: str, host: str, db: str | None, command: str, t: int, state: str,
            info: str | None = None, ms: float | None = None) -> Row:
    ms = t * 1000.0 + 137.0 if ms is None else ms
    return {"ID": tid, "USER": user, "HOST": host, "DB": db, "COMMAND": command, "TIME": int(ms // 1000),
            "STATE": state, "INFO": info, "TIME_MS": Decimal(f"{ms:.3f}"), "STAGE": 0, "MAX_STAGE": 0,
            "PROGRESS": Decimal("0.000"), "MEMORY_USED": 84312, "MAX_MEMORY_USED": 112824,
            "EXAMINED_ROWS": 0, "QUERY_ID": 0, "TID": 4000 + tid}


# ====================================================================== one server's SQL


_SHOW_VARS = re.compile(r"show\s+(global\s+|session\s+|local\s+)?(status|variables)\b\s*(.*)", re.I | re.S)
_SET_ITEM = re.compile(r"(?:session\s+|@@session\.|@@local\.|@@)?(\w+)\s*=\s*([\w.']+)", re.I)
_SET_AUTOCOMMIT = re.compile(r"set\s+(?:session\s+|@@session\.|@@)?autocommit\s*=\s*(\w+)", re.I)


class Session:
    """One client connection: its id, user and session state, and what it asks."""

    def __init__(self, server: SimServerEndpoint, connection_id: int, peer: str) -> None:
        self.server = server
        self.id = connection_id
        self.peer = peer
        self.user = ""
        self.database: str | None = None
        self.autocommit = True
        self.session_vars: dict[str, Any] = {}
        self.command = "Sleep"
        self.info: str | None = None
        self.since = server.pair.clock()

    def row(self) -> Row:
        now = self.server.pair.clock()
        return _thread(self.id, self.user, self.peer, self.database, self.command, int(now - self.since),
                       "Filling schema table" if self.command == "Query" else "", self.info,
                       ms=(now - self.since) * 1000)

    def env(self) -> Env:
        sim = self.server
        variables = {**sim.pair.variables(sim.state), **self.session_vars}

        def sysvar(name: str) -> Any:
            if name not in variables:
                raise SqlError(1193, "HY000", f"Unknown system variable '{name}'")
            return variables[name]

        now = datetime.fromtimestamp(sim.pair.clock()).replace(microsecond=0)
        return {"connection_id": self.id, "now": now, "sysvar": sysvar,
                "user": f"{self.user}@{self.peer.rsplit(':', 1)[0]}",
                "database": self.database}

    def execute(self, sql: str) -> Result | Ok:
        """One statement; raises SqlError like the server would."""
        stmt = sql.strip()
        words = stmt.lower().split()
        if not words:
            raise SqlError(1065, "42000", "Query was empty")
        head = words[0]
        pair, state = self.server.pair, self.server.state
        if head == "set":
            return self._set(stmt)
        if head in ("commit", "rollback", "begin") or words[:2] == ["start", "transaction"]:
            return Ok()
        if head == "use" and len(words) == 2:
            self.init_db(stmt.split()[1].strip("`;"))
            return Ok()
        if head == "show":
            return self._show(stmt, words)
        if head == "select":
            return run_select(stmt, pair.tables(state, self.server.live_rows), self.env())
        raise syntax_error(stmt)

    def init_db(self, name: str) -> None:
        if name.lower() not in DATABASES:
            host = self.peer.rsplit(":", 1)[0]
            raise SqlError(1044, "42000",
                           f"Access denied for user '{self.user}'@'{host}' to database '{name}'")
        self.database = name

    def _set(self, stmt: str) -> Ok:
        if re.match(r"set\s+(global\s|@@global\.)", stmt, re.I):
            raise SqlError(1227, "42000", "Access denied; you need (at least one of) the SUPER privilege(s) "
                                          "for this operation")
        m = _SET_AUTOCOMMIT.match(stmt)
        if m:
            self.autocommit = m.group(1).lower() in ("1", "on", "true")
        for name, value in _SET_ITEM.findall(stmt[3:]):
            if name.lower() in ("max_statement_time", "wait_timeout", "sql_mode", "time_zone"):
                self.session_vars[name.lower()] = _unquote(value) if value.startswith("'") else value
        return Ok()

    def _show(self, stmt: str, words: list[str]) -> Result:
        pair, state = self.server.pair, self.server.state
        joined = " ".join(words).rstrip(";")
        if joined in ("show slave status", "show replica status"):
            row = pair.replica_row(state)
            return Result(SLAVE_STATUS_COLUMNS, [] if row is None else [_show_row(row, SLAVE_STATUS_COLUMNS)])
        if joined in ("show all slaves status", "show all replicas status"):
            row = pair.replica_row(state)
            return Result(ALL_SLAVES_COLUMNS, [] if row is None else [_show_row(row, ALL_SLAVES_COLUMNS)])
        if joined in ("show master status", "show binlog status"):
            return Result(MASTER_STATUS_COLUMNS, pair.master_status(state))
        if joined in ("show warnings", "show errors"):
            return Result(WARNINGS_COLUMNS, [])
        if joined == "show databases":
            return Result([table_col("SCHEMATA", "Database", T_VAR_STRING, 256)], [(d,) for d in DATABASES])
        m = _SHOW_VARS.fullmatch(stmt.rstrip(";"))
        if m:
            kind = m.group(2).lower()
            pairs = pair.status(state) if kind == "status" else pair.show_variables(state)
            table = "SESSION_STATUS" if kind == "status" else "SESSION_VARIABLES"
            columns = [table_col(table, "Variable_name", T_VAR_STRING, 256).named("Variable_name"),
                       table_col(table, "Value", T_VAR_STRING, 16384).named("Value")]
            columns = [Col(c.name, c.type, c.length, c.flags, c.decimals, c.charset, table, table,
                           "information_schema", o) for c, o in zip(columns, _VARS_COLUMNS, strict=True)]
            return Result(columns, _filter_vars(pairs, m.group(3).strip(), self.env()))
        raise syntax_error(" ".join(stmt.split()[1:]))


def _show_row(row: Row, columns: Sequence[Col]) -> tuple[Any, ...]:
    """A SHOW row in `columns` order; what the simulation does not set is empty, or 0 for a number."""
    return tuple(row.get(c.name, "" if c.charset == UTF8MB4 else 0) for c in columns)


def _filter_vars(pairs: list[tuple[str, str]], clause: str, env: Env) -> list[tuple[Any, ...]]:
    """SHOW STATUS/VARIABLES [LIKE 'x' | WHERE expr], evaluated over (Variable_name, Value) rows."""
    rows = sorted(pairs, key=lambda kv: kv[0].lower())
    if not clause:
        return [tuple(kv) for kv in rows]
    p = Parser(clause, columns=lambda name: {"variable_name": "Variable_name", "value": "Value"}.get(
        name.lower()) or _unknown_column(name, "where clause"))
    if p.take("like"):
        pattern = p.expr()
        if not p.done():
            raise p.fail()
        return [kv for kv in rows if like(kv[0], pattern.fn({}, env))]
    p.expect("where")
    cond = p.expr()
    if not p.done():
        raise p.fail()
    return [kv for kv in rows if _truth(cond.fn({"Variable_name": kv[0], "Value": kv[1]}, env))]


def _unknown_column(name: str, where: str) -> str:
    raise SqlError(1054, "42S22", f"Unknown column '{name}' in '{where}'")


# ====================================================================== the wire


def lenenc_int(n: int) -> bytes:
    if n < 251:
        return bytes([n])
    if n < 1 << 16:
        return b"\xfc" + struct.pack("<H", n)
    if n < 1 << 24:
        return b"\xfd" + struct.pack("<I", n)[:3]
    return b"\xfe" + struct.pack("<Q", n)


def lenenc_str(b: bytes) -> bytes:
    return lenenc_int(len(b)) + b


def _value_bytes(v: Any) -> bytes:
    if v is None:
        return b"\xfb"
    if isinstance(v, bytes):
        return lenenc_str(v)
    if isinstance(v, datetime):
        return lenenc_str(v.strftime("%Y-%m-%d %H:%M:%S").encode())
    if isinstance(v, bool):
        return lenenc_str(b"1" if v else b"0")
    if isinstance(v, float):
        return lenenc_str(f"{v:.3f}".encode())
    return lenenc_str(str(v).encode())


def scramble_token(password: str, salt: bytes) -> bytes:
    """mysql_native_password: SHA1(pw) XOR SHA1(salt + SHA1(SHA1(pw)))."""
    if not password:
        return b""
    stage1 = hashlib.sha1(password.encode()).digest()
    stage2 = hashlib.sha1(stage1).digest()
    mix = hashlib.sha1(salt + stage2).digest()
    return bytes(a ^ b for a, b in zip(stage1, mix, strict=True))


def check_token(token: bytes, password: str, salt: bytes) -> bool:
    import hmac

    return hmac.compare_digest(token, scramble_token(password, salt))


_SALT_CHARS = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"


class _Wire:
    """Packets on one connection: 3-byte length, sequence id, payload."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer
        self.seq = 0

    async def read(self) -> bytes:
        payload = b""
        while True:
            header = await self.reader.readexactly(4)
            length = int.from_bytes(header[:3], "little")
            self.seq = (header[3] + 1) % 256
            payload += await self.reader.readexactly(length)
            if length < 0xFFFFFF:
                return payload

    def send(self, payload: bytes) -> None:
        while True:
            chunk, payload = payload[:0xFFFFFF], payload[0xFFFFFF:]
            self.writer.write(len(chunk).to_bytes(3, "little") + bytes([self.seq]) + chunk)
            self.seq = (self.seq + 1) % 256
            if len(chunk) < 0xFFFFFF:
                return


class SimServerEndpoint:
    """One listening simulated MariaDB (primary or replica) on 127.0.0.1."""

    def __init__(self, pair: MariadbPair, state: SimServer, *, user: str, password: str) -> None:
        self.pair, self.state = pair, state
        self.user, self.password = user, password
        self.server: asyncio.Server | None = None
        self.sessions: dict[int, Session] = {}
        self._next_id = 30 if state is pair.primary else 20
        self.queries: list[str] = []
        """Every statement received, in order (the tests read which queries a client sends)."""
        self.errors: list[tuple[str, int]] = []
        """Every statement answered with an error, and the error's code."""
        self._tasks: set[asyncio.Task[None]] = set()

    def live_rows(self) -> list[Row]:
        return [s.row() for s in self.sessions.values() if s.user]

    async def start(self) -> int:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.state.port = self.server.sockets[0].getsockname()[1]
        return self.state.port

    async def stop(self) -> None:
        if self.server is not None:
            self.server.close()
            for task in list(self._tasks):
                task.cancel()
            for task in list(self._tasks):
                with contextlib.suppress(BaseException):
                    await task
            with contextlib.suppress(Exception):
                await self.server.wait_closed()
            self.server = None

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._tasks.add(task)
        peer = writer.get_extra_info("peername") or ("127.0.0.1", 0)
        self._next_id += 1
        session = Session(self, self._next_id, f"{peer[0]}:{peer[1]}")
        self.sessions[session.id] = session
        try:
            await self._connection(_Wire(reader, writer), session)
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.CancelledError):
            pass
        finally:
            self.sessions.pop(session.id, None)
            if task is not None:
                self._tasks.discard(task)
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    async def _connection(self, wire: _Wire, session: Session) -> None:
        salt = bytes(random.SystemRandom().choice(_SALT_CHARS) for _ in range(20))
        wire.send(self._handshake(session.id, salt))
        await wire.writer.drain()
        caps, user, token, db, plugin = self._parse_response(await wire.read())
        if caps & CLIENT_PROTOCOL_41 == 0:
            wire.send(self._err(SqlError(1043, "08S01", "Bad handshake"), CLIENT_PROTOCOL_41))
            return
        caps &= SERVER_CAPABILITIES
        if plugin and plugin != AUTH_PLUGIN:
            wire.send(b"\xfe" + AUTH_PLUGIN.encode() + b"\0" + salt + b"\0")  # AuthSwitchRequest
            await wire.writer.drain()
            token = await wire.read()
        host = session.peer.rsplit(":", 1)[0]
        if user != self.user or not check_token(token, self.password, salt):
            using = "YES" if token else "NO"
            wire.send(self._err(SqlError(1045, "28000", f"Access denied for user '{user}'@'{host}' "
                                                        f"(using password: {using})"), caps))
            await wire.writer.drain()
            return
        session.user = user
        if db:
            try:
                session.init_db(db)
            except SqlError as exc:
                wire.send(self._err(exc, caps))
                await wire.writer.drain()
                return
        wire.send(self._ok(session, caps))
        await wire.writer.drain()
        while True:
            packet = await wire.read()
            wire.seq = 1
            if not packet:
                continue
            command, body = packet[0], packet[1:]
            if command == COM_QUIT:
                return
            if command == COM_PING:
                wire.send(self._ok(session, caps))
            elif command == COM_INIT_DB:
                try:
                    session.init_db(body.decode(errors="replace"))
                    wire.send(self._ok(session, caps))
                except SqlError as exc:
                    wire.send(self._err(exc, caps))
            elif command == COM_QUERY:
                self._query(wire, session, body.decode("utf-8", errors="replace"), caps)
            else:
                wire.send(self._err(SqlError(1047, "08S01", "Unknown command"), caps))
            await wire.writer.drain()

    def _query(self, wire: _Wire, session: Session, sql: str, caps: int) -> None:
        try:
            statements = split_statements(sql) if caps & CLIENT_MULTI_STATEMENTS else [sql]
        except SqlError as exc:
            wire.send(self._err(exc, caps))
            return
        session.command, session.info = "Query", sql
        try:
            for k, stmt in enumerate(statements):
                self.queries.append(stmt)
                more = SERVER_MORE_RESULTS_EXISTS if k < len(statements) - 1 else 0
                try:
                    result = session.execute(stmt)
                except SqlError as exc:
                    self.errors.append((stmt, exc.errno))
                    wire.send(self._err(exc, caps))
                    return
                except Exception:  # a bug in the simulator: an error for the client, the server lives on
                    log.exception("simulated MariaDB failed on %r", stmt[:200])
                    self.errors.append((stmt, 1105))
                    wire.send(self._err(SqlError(1105, "HY000", "Unknown error"), caps))
                    return
                if isinstance(result, Ok):
                    wire.send(self._ok(session, caps, more))
                else:
                    self._result(wire, session, result, caps, more)
        finally:
            session.command, session.info = "Sleep", None
            session.since = self.pair.clock()

    # -- packets
    def _handshake(self, connection_id: int, salt: bytes) -> bytes:
        caps = SERVER_CAPABILITIES
        return (b"\x0a" + HANDSHAKE_VERSION.encode() + b"\0" + struct.pack("<I", connection_id)
                + salt[:8] + b"\0" + struct.pack("<H", caps & 0xFFFF) + bytes([UTF8MB4])
                + struct.pack("<H", SERVER_STATUS_AUTOCOMMIT) + struct.pack("<H", caps >> 16)
                + bytes([len(salt) + 1]) + b"\0" * 10 + salt[8:] + b"\0" + AUTH_PLUGIN.encode() + b"\0")

    @staticmethod
    def _parse_response(p: bytes) -> tuple[int, str, bytes, str | None, str]:
        """HandshakeResponse41: (capabilities, user, auth response, database, plugin)."""
        if len(p) < 32:
            raise ConnectionError("short handshake response")
        caps = struct.unpack_from("<I", p, 0)[0]
        if caps & CLIENT_SSL and len(p) == 32:
            raise ConnectionError("the client asked for TLS, which the simulator does not offer")
        pos = 32
        end = p.index(b"\0", pos)
        user = p[pos:end].decode(errors="replace")
        pos = end + 1
        if caps & CLIENT_PLUGIN_AUTH_LENENC_CLIENT_DATA:
            n, pos = _read_lenenc(p, pos)
            token = p[pos:pos + n]
            pos += n
        elif caps & CLIENT_SECURE_CONNECTION:
            n = p[pos]
            token = p[pos + 1:pos + 1 + n]
            pos += 1 + n
        else:
            end = p.index(b"\0", pos)
            token = p[pos:end]
            pos = end + 1
        db = None
        if caps & CLIENT_CONNECT_WITH_DB and pos < len(p):
            end = p.index(b"\0", pos)
            db = p[pos:end].decode(errors="replace") or None
            pos = end + 1
        plugin = ""
        if caps & CLIENT_PLUGIN_AUTH and pos < len(p):
            end = p.find(b"\0", pos)
            plugin = p[pos:end if end >= 0 else len(p)].decode(errors="replace")
        return caps, user, token, db, plugin

    def _status(self, session: Session, more: int = 0) -> int:
        return (SERVER_STATUS_AUTOCOMMIT if session.autocommit else 0) | more

    def _ok(self, session: Session, caps: int, more: int = 0, header: int = 0x00) -> bytes:
        return (bytes([header]) + lenenc_int(0) + lenenc_int(0)
                + struct.pack("<HH", self._status(session, more), 0))

    @staticmethod
    def _err(exc: SqlError, caps: int) -> bytes:
        return (b"\xff" + struct.pack("<H", exc.errno) + b"#" + exc.sqlstate.encode()[:5]
                + exc.message.encode())

    def _eof(self, session: Session, more: int = 0) -> bytes:
        return b"\xfe" + struct.pack("<HH", 0, self._status(session, more))

    def _result(self, wire: _Wire, session: Session, result: Result, caps: int, more: int) -> None:
        wire.send(lenenc_int(len(result.columns)))
        for c in result.columns:
            wire.send(b"".join(lenenc_str(s.encode()) for s in ("def", c.schema, c.table, c.org_table, c.name,
                                                                c.org_name))
                      + b"\x0c" + struct.pack("<HIBHB", c.charset, c.length, c.type, c.flags, c.decimals)
                      + b"\0\0")
        deprecate_eof = bool(caps & CLIENT_DEPRECATE_EOF)
        if not deprecate_eof:
            wire.send(self._eof(session))
        for row in result.rows:
            wire.send(b"".join(_value_bytes(v) for v in row))
        if deprecate_eof:
            wire.send(self._ok(session, caps, more, header=0xFE))
        else:
            wire.send(self._eof(session, more))


def _read_lenenc(p: bytes, pos: int) -> tuple[int, int]:
    first = p[pos]
    if first < 251:
        return first, pos + 1
    if first == 0xFC:
        return int.from_bytes(p[pos + 1:pos + 3], "little"), pos + 3
    if first == 0xFD:
        return int.from_bytes(p[pos + 1:pos + 4], "little"), pos + 4
    return int.from_bytes(p[pos + 1:pos + 9], "little"), pos + 9


# ====================================================================== the pair, served


class MysqlSim:
    """The simulated primary and replica on free ports; `start()`/`stop()` in the caller's loop."""

    def __init__(self, *, user: str = "monitor", password: str | None = None, seed: int = 1,
                 clock: Callable[[], float] = time.time, tick: float | None = 1.0) -> None:
        self.user = user
        self.password = password if password is not None else os.urandom(9).hex()
        self.pair = MariadbPair(seed=seed, clock=clock)
        self.tick = tick
        self.primary = SimServerEndpoint(self.pair, self.pair.primary, user=user, password=self.password)
        self.replica = SimServerEndpoint(self.pair, self.pair.replica, user=user, password=self.password)
        self._life: asyncio.Task[None] | None = None

    def __repr__(self) -> str:
        p, r = self.pair.primary.port, self.pair.replica.port
        return f"MysqlSim(primary={p}, replica={r}, user={self.user!r})"

    @property
    def dsns(self) -> tuple[str, str]:
        return (f"mysql://{self.user}@127.0.0.1:{self.pair.primary.port}",
                f"mysql://{self.user}@127.0.0.1:{self.pair.replica.port}")

    async def start(self) -> tuple[str, str]:
        try:
            await self.primary.start()
            await self.replica.start()
        except BaseException:
            await self.stop()
            raise
        if self.tick:
            self._life = asyncio.get_running_loop().create_task(self._live(self.tick))
        return self.dsns

    async def stop(self) -> None:
        if self._life is not None:
            self._life.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._life
            self._life = None
        await self.replica.stop()
        await self.primary.stop()

    async def _live(self, tick: float) -> None:
        while True:
            await asyncio.sleep(tick)
            self.pair.step()
