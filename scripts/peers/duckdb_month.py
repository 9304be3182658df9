#!/usr/bin/env python3
"""apportion's attribution of a generic-CSV month, written as one DuckDB query.

Used by scripts/bench-peers.sh to compare `apportion report` with what a DuckDB user would
run on the same month. Three commands:

    duckdb_month.py query --config apportion.toml [--threads 2] [--out result.json] LOG.csv
    duckdb_month.py compare APPORTION.json DUCKDB.json
    duckdb_month.py summary TIMINGS.tsv ROWS=FILE...

Every rule is read from the configuration with tomllib; nothing of the month is written here.

What the query does, in apportion's order (src/load, src/calc)
---------------------------------------------------------------
Reading (src/load/generic.rs, src/load/mod.rs), per row:
  * the [[sources]] entry whose pattern matches the file name gives the column map (its
    defaults otherwise); header names match ignoring case, spaces, `_` and `-`; the columns
    are typed in read_csv (timestamp TIMESTAMPTZ, token counts UBIGINT, cost DOUBLE, text
    VARCHAR) and rows that cannot be read (wrong number of fields, a value of the wrong type)
    are skipped (ignore_errors);
  * timestamps without an offset are read in the source's zone (UTC by default), through
    DuckDB's TimeZone setting;
  * the status: empty is a success; success/ok/… and failure/error/… as apportion spells
    them, or an HTTP code (2xx is a success); any other status rejects the row;
  * an empty model takes the source's default_model, or rejects the row;
  * cached input is part of input when cached_included_in_input (the default): it is
    subtracted, and more cached than input rejects the row;
  * rows whose local day (the organization's zone, ICU `timezone()`) is outside the period,
    rows with more than 10^13 tokens of a kind, and rows whose cost is in a currency with no
    configured rate are rejected;
  * then duplicates: among the rows that passed, a request id seen before is rejected and the
    first occurrence in file order is kept. DuckDB guarantees the file's order only to a
    window with an empty OVER () placed directly over the scan, so `row_number() OVER ()`
    numbers the rows there. That runs the CSV scan on one thread (the checks after it run on
    both), and the numbered rows are materialized in memory until the first occurrences are
    known: these are the price of the duplicate rule in SQL, and most of DuckDB's time and
    memory here. (Numbering later, over a materialized CTE or a table's rowid, was faster
    but gave rows out of file order in testing, so it is not used.)
Groups: the kept rows are aggregated per (api key, user, project, team, tags, model, local
day, time window): rows, successful and failed calls, tokens of each kind of the successful
calls. Every row of a group has the same price (prices change by local day) and the same
weight, and cost is linear in tokens, so pricing a group is exact; apportion groups its
hourly buckets the same way before pricing. Failed calls are counted and never charged.
Then, per group (src/calc/mapping.rs, pricing.rs, weight.rs, aggregate.rs):
  * mapping: the distinct callers are mapped once: the [[mapping]] rules in order, every
    field a rule names must match (api_key, user, project, team, or any one tag; exact text,
    or GLOB when the pattern has glob characters, `{a,b}` expanded into alternatives); no
    match gives the source's default_department, else UNATTRIBUTED; tags are a JSON list or
    split on `;`, `|` and `,`;
  * models: the configuration's [[models]] matched ignoring case, exact names and aliases
    first, then alias globs in order, then the same with a provider prefix (`openai/…`)
    removed; a model listed again is a dated version (effective_from) and a call is priced
    at the version in force on its local day;
  * list cost = tokens × price per token of each kind (uncached input, cached input, cache
    write; a missing rate falls back to the input rate) and output; converted = list cost ×
    complexity × the time weight of the local weekday and hour (first window that covers it,
    else the default); prices per token, complexities and weights are DECIMAL(38, k) with k
    from the configuration, so every cost is exact, as apportion's are;
  * illegal calls: calls with a revoked key, and calls of a department whose allowed_models
    matches neither the model as written nor its canonical name.
The query returns one row per (department, model) line. In Python, after the query (inside
the timed process, a few milliseconds): department sums of the lines, and the settlement of
src/calc/settle.rs and allocate.rs: the amount to settle (invoice total, or list cost plus
shared lines), usage (Σ list cost to the cent) split by converted amount, each department's
usage split over its lines, then the invoice gap and the shared lines by their strategy
(proportional, even among the departments with calls, fixed shares), UNATTRIBUTED usage
shared when [invoice] unattributed is set; every split by largest remainder to the minor
unit, ties to the larger share, then the name.

What it leaves out, so the comparison is honest
-----------------------------------------------
  * no list of rejected rows with their line and reason: DuckDB skips unreadable rows and
    the query filters the others; the conservation check compares only the rows kept
    (attributed and unattributed), not rows read or rejected;
  * no statuses, budgets, spikes, projection, daily series, mismatches (price, ledger,
    total), review session or checklist; no prior ledger (the bench runs apportion without
    --ledger, so both do the same work on the log);
  * no provider cost per line (the cost column is only parsed, to reject what apportion
    rejects); no source hashing, no caller labels, no invoice rows in the sources (cost
    reports, FOCUS), no other source format, one log file per run;
  * prices only from the configuration's [[models]]: a model it does not price is costed at
    zero and listed as unpriced, where apportion would look it up in its bundled table
    (none of the generated months has such a model);
  * parsing differences on inputs the generator never writes: DuckDB rounds a token count
    such as `12.5` or reads `1e3`, which apportion rejects; it does not read Unix-second
    timestamps, which apportion accepts; it may resolve a local time skipped or repeated by a
    daylight-saving change differently; it lower-cases non-ASCII model names;
  * the remainders of the largest-remainder splits are computed with 50 significant digits
    where apportion's decimals hold 28; a different order could only come from remainders
    equal to 26 digits.
"""

import argparse
import csv
import datetime as dt
import fnmatch
import json
import math
import os
import re
import statistics
import sys
import time
import tomllib
from decimal import ROUND_HALF_UP, Decimal, localcontext

UNATTRIBUTED = "UNATTRIBUTED"
MOST_TOKENS = 10_000_000_000_000  # src/load/mod.rs: more of one kind is not plausible
SUCCESS = ["success", "succeeded", "successful", "ok", "completed", "complete", "true"]
FAILURE = ["failure", "failed", "fail", "error", "errored", "cancelled", "canceled",
           "timeout", "timed_out", "rejected", "false"]
GLOB_CHARS = set("*?[{")
GAP_LINE = "Invoice gap (invoice usage minus list cost)"
UNATTRIBUTED_LINE = "Unattributed usage"
TOKEN_KINDS = ["input", "cached_input", "cache_write", "cache_write_1h", "output"]

# The column map's defaults (src/config/mod.rs, ColumnMap::default).
DEFAULT_COLUMNS = {
    "timestamp": "timestamp", "request_id": "request_id", "api_key": "api_key",
    "user": "user", "project": "project", "team": "team", "tags": "tags", "model": "model",
    "input_tokens": "input_tokens", "cached_input_tokens": "cached_input_tokens",
    "cache_write_tokens": "cache_write_tokens", "output_tokens": "output_tokens",
    "cost": "cost", "currency": "currency", "status": "status",
}


# ---------------------------------------------------------------------------------------
# The configuration
# ---------------------------------------------------------------------------------------

def read_config(path):
    """The TOML, with every float read as the Decimal of its literal (as apportion does)."""
    with open(path, "rb") as f:
        return tomllib.load(f, parse_float=Decimal)


def dec(value):
    """A decimal written in TOML as a string, an integer or a float."""
    return Decimal(value.strip()) if isinstance(value, str) else Decimal(value)


def month_bounds(config):
    year, month = (int(part) for part in config["period"]["month"].split("-"))
    first = dt.date(year, month, 1)
    following = dt.date(year + month // 12, month % 12 + 1, 1)
    return first, following - dt.timedelta(days=1)


def expand_braces(pattern):
    """`a{b,c}d` → [`abd`, `acd`]: DuckDB's GLOB has no alternation, globset does."""
    match = re.search(r"\{([^{}]*)\}", pattern)
    if not match:
        return [pattern]
    head, tail = pattern[:match.start()], pattern[match.end():]
    return [x for alt in match.group(1).split(",") for x in expand_braces(head + alt + tail)]


def is_glob(pattern):
    return any(c in GLOB_CHARS for c in pattern)


def source_spec(config, csv_path):
    """The first [[sources]] entry whose pattern matches the file name, or the defaults."""
    name = os.path.basename(csv_path)
    for spec in config.get("sources", []):
        if any(fnmatch.fnmatchcase(name, p) for p in expand_braces(spec["pattern"])):
            return spec
    return {"pattern": "*"}


def column_map(spec):
    columns = dict(DEFAULT_COLUMNS)
    columns.update({k: v for k, v in spec.get("columns", {}).items() if isinstance(v, str)})
    options = spec.get("columns", {})
    return (columns, options.get("cached_included_in_input", True),
            options.get("default_model"))


def normalize_header(name):
    """Header names compare without case, white space, `_`, `-` or byte-order marks."""
    return "".join(c for c in name if not c.isspace() and c not in "_-\ufeff").lower()


def locate_columns(csv_path, columns):
    """Which field of the file each configured column is (the first of equal names)."""
    with open(csv_path, newline="", encoding="utf-8", errors="replace") as f:
        header = next(csv.reader(f))
    index = {}
    for i, name in enumerate(header):
        index.setdefault(normalize_header(name), i)
    found = {role: index.get(normalize_header(name)) for role, name in columns.items()}
    if found["timestamp"] is None:
        sys.exit(f"{csv_path}: no column '{columns['timestamp']}' for the timestamp")
    return header, found


# ---------------------------------------------------------------------------------------
# SQL pieces generated from the configuration
# ---------------------------------------------------------------------------------------

def q(text):
    """A SQL string literal."""
    return "'" + str(text).replace("'", "''") + "'"


def pattern_sql(value, pattern, lower=False):
    """`value` matches `pattern`: exact text, or GLOB when it has glob characters."""
    if lower:
        pattern = pattern.lower()
    if not is_glob(pattern):
        return f"coalesce({value} = {q(pattern)}, false)"
    alternatives = " OR ".join(f"{value} GLOB {q(p)}" for p in expand_braces(pattern))
    return f"coalesce(({alternatives}), false)"


def rule_sql(rule):
    """Every field a mapping rule names must match; a tag rule matches any one tag."""
    conditions = []
    for field in ["api_key", "user", "project", "team"]:
        if field in rule:
            conditions.append(pattern_sql(f"c_{field}", rule[field]))
    if "tag" in rule:
        conditions.append(f"len(list_filter(c_tags, lambda t: {pattern_sql('t', rule['tag'])})) > 0")
    return " AND ".join(conditions) or "true"


def department_sql(config, spec):
    """The department of a caller, as a CASE over the ordered rules."""
    fallback = spec.get("default_department") or UNATTRIBUTED
    whens = "\n".join(f"      WHEN {rule_sql(r)} THEN {q(r['department'])}"
                      for r in config.get("mapping", []))
    return f"CASE\n{whens}\n      ELSE {q(fallback)} END" if whens else q(fallback)


def allowed_sql(config):
    """Whether a department may use the model (as written, or by its canonical name)."""
    whens = []
    for d in config.get("departments", []):
        patterns = d.get("allowed_models", [])
        if not patterns:
            continue
        tests = " OR ".join(f"{pattern_sql('model_name', p)} OR {pattern_sql('label_if_priced', p)}"
                            for p in patterns)
        whens.append(f"WHEN {q(d['name'])} THEN ({tests})")
    return f"CASE department {' '.join(whens)} ELSE true END" if whens else "true"


def time_windows(config):
    """The configured windows as (ISO weekdays, first hour, end hour, weight)."""
    days = {"mon": 1, "tue": 2, "wed": 3, "thu": 4, "fri": 5, "sat": 6, "sun": 7}
    windows = []
    for w in config.get("time_weights", {}).get("windows", []):
        isodows = sorted({days[d.lower()] for d in w["days"] if d.lower() in days})
        windows.append((isodows, int(w["start_hour"]), int(w["end_hour"]), dec(w["weight"])))
    return windows


def window_sql(config):
    """Which window covers a row's local weekday and hour: the first that does, else none
    (-1, the default weight)."""
    whens = [f"WHEN isodow(local_time) IN ({', '.join(map(str, days))}) AND hour(local_time) >= {start} "
             f"AND hour(local_time) < {end} THEN {i}"
             for i, (days, start, end, _) in enumerate(time_windows(config)) if days]
    return f"CASE {' '.join(whens)} ELSE -1 END" if whens else "-1"


def weight_sql(config, scale):
    """The time weight of a group's window."""
    default = dec(config.get("time_weights", {}).get("default", 1))
    whens = [f"WHEN {i} THEN {dec_sql(weight, scale)}"
             for i, (_, _, _, weight) in enumerate(time_windows(config))]
    return (f"CASE time_window {' '.join(whens)} ELSE {dec_sql(default, scale)} END"
            if whens else dec_sql(default, scale))


def dec_sql(value, scale):
    return f"CAST({q(value)} AS DECIMAL(38, {scale}))"


def scale_of(values):
    return max([0] + [-v.normalize().as_tuple().exponent for v in values])


def price_table(config, first, last):
    """The configured models as apportion's price table compiles them (src/calc/pricing.rs).

    Returns the names to match (exact or glob, in priority order, each with its model), the
    canonical name of each model, and the price in force per model and local day.
    """
    models = config.get("models", [])
    exact, globs, versions = {}, [], {}
    for index, m in enumerate(models):
        known = exact.get(m["name"].lower())
        if known is not None:          # the same name again: a dated version of that model
            versions[known].append(index)
            continue
        versions[index] = [index]
        for name in [m["name"]] + list(m.get("aliases", [])):
            if is_glob(name):
                globs.append((name.lower(), index))
            else:
                exact.setdefault(name.lower(), index)

    def since(i):
        day = models[i].get("effective_from")
        if day is None:
            return dt.date.min
        return day if isinstance(day, dt.date) else dt.date.fromisoformat(day.strip())

    labels = {p: models[max(vs, key=since)]["name"] for p, vs in versions.items()}
    daily = []
    day = first
    while day <= last:
        for primary, vs in versions.items():
            in_force = [i for i in vs if since(i) <= day]
            if in_force:
                daily.append((primary, day, models[max(in_force, key=since)]))
        day += dt.timedelta(days=1)
    names = [(n, p, False) for n, p in exact.items()] + [(n, p, True) for n, p in globs]
    return names, labels, daily


def per_token(m):
    """Prices per token of each kind, with apportion's fallbacks."""
    million = Decimal(1_000_000)
    input_ = dec(m["input"])
    cached = dec(m["cached_input"]) if "cached_input" in m else input_
    write = dec(m["cache_write"]) if "cache_write" in m else input_
    return [p / million for p in (input_, cached, write, dec(m["output"]))]


def build_query(config, csv_path):
    spec = source_spec(config, csv_path)
    columns, cached_included, default_model = column_map(spec)
    header, found = locate_columns(csv_path, columns)
    first, last = month_bounds(config)
    zone = config["organization"]["time_zone"]
    currency = config["organization"].get("currency", "USD").upper()
    accepted_currencies = [currency] + [r["currency"].strip().upper()
                                        for r in config.get("exchange_rates", [])]

    # read_csv gets one typed column per field of the header, in file order.
    types = {"timestamp": "TIMESTAMPTZ", "input_tokens": "UBIGINT",
             "cached_input_tokens": "UBIGINT", "cache_write_tokens": "UBIGINT",
             "output_tokens": "UBIGINT", "cost": "DOUBLE"}
    role_of = {i: role for role, i in found.items() if i is not None}
    read_columns = ", ".join(
        f"{q(role_of.get(i, f'unused_{i}'))}: {q(types.get(role_of.get(i), 'VARCHAR'))}"
        for i in range(len(header)))

    def col(role, missing="NULL"):
        return f'"{role}"' if found[role] is not None else missing

    tokens = {k: f"coalesce({col(k, '0')}, 0)" for k in
              ["input_tokens", "cached_input_tokens", "cache_write_tokens", "output_tokens"]}
    uncached = (f"{tokens['input_tokens']} - {tokens['cached_input_tokens']}"
                if cached_included else tokens["input_tokens"])
    status = f"lower(trim({col('status')}))"
    # Raw spellings first: most rows never need the trimmed, lower-cased comparison.
    ok = (f"CASE WHEN {col('status')} IN ({', '.join(map(q, SUCCESS))}) THEN true "
          f"WHEN {col('status')} IN ({', '.join(map(q, FAILURE))}) THEN false "
          f"WHEN {col('status')} IS NULL OR {status} = '' THEN true "
          f"WHEN {status} IN ({', '.join(map(q, SUCCESS))}) THEN true "
          f"WHEN {status} IN ({', '.join(map(q, FAILURE))}) THEN false "
          f"WHEN regexp_full_match({status}, '\\+?[0-9]+') "
          f"THEN TRY_CAST({status} AS USMALLINT) BETWEEN 200 AND 299 END")
    model = col("model")
    model_ok = (f"({model} IS NOT NULL AND trim({model}) <> '')" if default_model is None
                else "true")
    model_value = (model if default_model is None else
                   f"CASE WHEN {model} IS NULL OR trim({model}) = '' THEN {q(default_model)} "
                   f"ELSE {model} END")
    currency_ok = (f"({col('cost')} IS NULL OR {col('currency')} IS NULL "
                   f"OR {col('currency')} IN ({', '.join(map(q, accepted_currencies))}) "
                   f"OR upper(trim({col('currency')})) IN ({', '.join(map(q, accepted_currencies + ['']))}))")
    cost_ok = f"({col('cost')} IS NULL OR isfinite({col('cost')}))"
    plausible = f"greatest({', '.join(tokens.values())}) <= {MOST_TOKENS}"
    cached_ok = (f"{tokens['cached_input_tokens']} <= {tokens['input_tokens']}"
                 if cached_included else "true")

    names, labels, daily = price_table(config, first, last)
    prices = [per_token(m) for _, _, m in daily]
    price_scale = scale_of([p for row in prices for p in row])
    weight_values = [dec(config.get("time_weights", {}).get("default", 1))] + [
        dec(w["weight"]) for w in config.get("time_weights", {}).get("windows", [])]
    complexity_scale = scale_of([dec(m.get("complexity", 1)) for _, _, m in daily] + [Decimal(1)])
    weight_scale = scale_of(weight_values)
    if price_scale + complexity_scale + weight_scale > 30:
        sys.exit("prices, complexities and weights have too many decimals for DECIMAL(38)")

    name_rows = ", ".join(f"({q(n)}, {p}, {str(g).lower()}, {i})"
                          for i, (n, p, g) in enumerate(names)) or "(NULL, NULL, NULL, NULL)"
    label_rows = ", ".join(f"({p}, {q(label)})" for p, label in labels.items()) or "(NULL, NULL)"
    price_rows = ", ".join(
        f"({p}, DATE {q(day)}, " + ", ".join(dec_sql(x, price_scale) for x in row)
        + f", {dec_sql(dec(m.get('complexity', 1)), complexity_scale)})"
        for (p, day, m), row in zip(daily, prices)) or "(NULL, NULL, NULL, NULL, NULL, NULL, NULL)"
    revoked = ", ".join(q(k) for k in config.get("revoked_keys", [])) or "NULL"

    return f"""
WITH
-- every row read, numbered in file order by a window with an empty OVER () directly over
-- the scan: the one place DuckDB guarantees the file's order (the scan runs on one thread);
-- materialized, so that the checks below run on both threads
numbered AS MATERIALIZED (
  SELECT *, row_number() OVER () AS rn
  FROM read_csv({q(csv_path)}, header = true, auto_detect = false, delim = ',', quote = '"',
                escape = '"', ignore_errors = true, columns = {{{read_columns}}})
),
-- the rows apportion accepts before its duplicate check, with what the sums need
accepted AS MATERIALIZED (
  SELECT rn, nullif(trim({col('request_id')}), '') AS request_id, ok,
         {col('api_key')} AS api_key, {col('user')} AS "user", {col('project')} AS project,
         {col('team')} AS team, {col('tags')} AS tags, {model_value} AS model,
         CAST(local_time AS DATE) AS local_day, {window_sql(config)} AS time_window,
         {uncached} AS t_input, {tokens['cached_input_tokens']} AS t_cached,
         {tokens['cache_write_tokens']} AS t_write, {tokens['output_tokens']} AS t_output
  FROM (SELECT *, timezone({q(zone)}, "timestamp") AS local_time, {ok} AS ok FROM numbered)
  WHERE ok IS NOT NULL AND {model_ok}
    AND "timestamp" >= timezone({q(zone)}, TIMESTAMP {q(first)})
    AND "timestamp" < timezone({q(zone)}, TIMESTAMP {q(last + dt.timedelta(days=1))})
    AND {cached_ok} AND {plausible} AND {cost_ok} AND {currency_ok}
),
-- a request id seen before is a duplicate: the first occurrence in file order is kept
firsts AS (
  SELECT request_id, min(rn) AS first_rn FROM accepted WHERE request_id IS NOT NULL
  GROUP BY request_id HAVING count(*) > 1
),
kept AS (
  SELECT a.* FROM accepted a LEFT JOIN firsts f ON a.request_id = f.request_id
  WHERE f.first_rn IS NULL OR a.rn = f.first_rn
),
-- exact sums per (caller, model, local day, time window): every row of a group has the
-- same price and weight, and cost is linear in tokens
groups AS (
  SELECT api_key, "user", project, team, tags, model, local_day, time_window,
         count(*) AS rows, count(*) FILTER (WHERE ok) AS calls,
         count(*) FILTER (WHERE NOT ok) AS failed_calls,
         coalesce(sum(t_input) FILTER (WHERE ok), 0) AS t_input,
         coalesce(sum(t_cached) FILTER (WHERE ok), 0) AS t_cached,
         coalesce(sum(t_write) FILTER (WHERE ok), 0) AS t_write,
         coalesce(sum(t_output) FILTER (WHERE ok), 0) AS t_output
  FROM kept GROUP BY ALL
),
-- each distinct caller mapped once, by the ordered rules
callers AS (
  SELECT api_key, "user", project, team, tags,
         {department_sql(config, spec)} AS department,
         coalesce(c_api_key IN ({revoked}), false) AS revoked
  FROM (
    SELECT api_key, "user", project, team, tags,
           nullif(trim(api_key), '') AS c_api_key, nullif(trim("user"), '') AS c_user,
           nullif(trim(project), '') AS c_project, nullif(trim(team), '') AS c_team,
           CASE WHEN starts_with(trim(tags), '[') AND json_valid(trim(tags))
                     AND json_structure(trim(tags)) = '["VARCHAR"]'
                THEN from_json(trim(tags), '["VARCHAR"]')
                ELSE list_filter(list_transform(regexp_split_to_array(coalesce(tags, ''), '[;|,]'),
                                                lambda t: trim(t)), lambda t: t <> '') END AS c_tags
    FROM (SELECT DISTINCT api_key, "user", project, team, tags FROM groups))
),
-- each distinct model resolved once: exact names, then globs, then without a prefix
model_names(name, model_index, is_glob, priority) AS (VALUES {name_rows}),
model_labels(model_index, label) AS (VALUES {label_rows}),
prices(model_index, day, p_input, p_cached, p_write, p_output, complexity) AS (VALUES {price_rows}),
models AS (
  SELECT model, trim(model) AS model_name, lower(trim(model)) AS n1,
         CASE WHEN contains(trim(model), '/')
              THEN lower(regexp_extract(trim(model), '.*/(.*)$', 1)) END AS n2
  FROM (SELECT DISTINCT model FROM groups)
),
candidates AS (
  SELECT m.model, 0 AS stage, n.priority, n.model_index FROM models m JOIN model_names n ON NOT n.is_glob AND m.n1 = n.name
  UNION ALL
  SELECT m.model, 1, n.priority, n.model_index FROM models m JOIN model_names n ON n.is_glob AND m.n1 GLOB n.name
  UNION ALL
  SELECT m.model, 2, n.priority, n.model_index FROM models m JOIN model_names n ON NOT n.is_glob AND m.n2 = n.name
  UNION ALL
  SELECT m.model, 3, n.priority, n.model_index FROM models m JOIN model_names n ON n.is_glob AND m.n2 GLOB n.name
),
resolved AS (
  SELECT m.model, m.model_name, c.model_index, l.label AS label_if_priced,
         coalesce(l.label, m.model_name) AS label
  FROM models m
  LEFT JOIN (SELECT model, arg_min(model_index, stage * 1000000 + priority) AS model_index
             FROM candidates GROUP BY model) c USING (model)
  LEFT JOIN model_labels l USING (model_index)
),
-- every group priced at the version in force on its local day, and weighted
priced AS (
  SELECT c.department, r.label, b.rows, b.calls, b.failed_calls,
         b.t_input, b.t_cached, b.t_write, b.t_output,
         coalesce(b.t_input * p.p_input + b.t_cached * p.p_cached + b.t_write * p.p_write
                  + b.t_output * p.p_output, 0) AS list_cost,
         coalesce(p.complexity, 1) AS complexity,
         {weight_sql(config, weight_scale)} AS weight,
         p.model_index IS NULL AS unpriced,
         c.revoked, {allowed_sql(config)} AS allowed
  FROM groups b
  JOIN callers c ON b.api_key IS NOT DISTINCT FROM c.api_key AND b."user" IS NOT DISTINCT FROM c."user"
       AND b.project IS NOT DISTINCT FROM c.project AND b.team IS NOT DISTINCT FROM c.team
       AND b.tags IS NOT DISTINCT FROM c.tags
  JOIN resolved r ON b.model = r.model
  LEFT JOIN prices p ON p.model_index = r.model_index AND p.day = b.local_day
)
SELECT department, label AS model,
       sum(rows)::BIGINT AS rows, sum(calls)::BIGINT AS calls,
       sum(failed_calls)::BIGINT AS failed_calls,
       sum(t_input)::HUGEINT AS input, sum(t_cached)::HUGEINT AS cached_input,
       sum(t_write)::HUGEINT AS cache_write, sum(t_output)::HUGEINT AS output,
       sum(list_cost) AS list_cost, sum(list_cost * complexity * weight) AS converted,
       (sum(calls) FILTER (WHERE revoked))::BIGINT AS revoked_calls,
       (sum(calls) FILTER (WHERE NOT allowed))::BIGINT AS not_allowed_calls,
       (sum(calls) FILTER (WHERE unpriced))::BIGINT AS unpriced_calls
FROM priced
GROUP BY department, label
ORDER BY department, label
"""


# ---------------------------------------------------------------------------------------
# Settlement (src/calc/settle.rs, src/calc/allocate.rs), on the query's lines
# ---------------------------------------------------------------------------------------

def minor_unit_digits(currency):
    if currency in {"BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG", "RWF",
                    "UGX", "UYI", "VND", "VUV", "XAF", "XOF", "XPF"}:
        return 0
    if currency in {"BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"}:
        return 3
    return 2


def round_money(amount, digits):
    """To the minor unit, halves away from zero."""
    return amount.quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP)


def allocate(amount, shares, digits):
    """Largest remainder: `shares` is a list of (name, weight); one amount per share."""
    if not shares:
        return []
    with localcontext() as ctx:
        ctx.prec = 50
        scale = Decimal(10) ** digits
        units = round_money(amount, digits) * scale
        negative = units < 0
        units = abs(units)
        weights = [max(w, Decimal(0)) for _, w in shares]
        if all(w == 0 for w in weights):
            weights = [Decimal(1)] * len(shares)
        total = sum(weights)
        exact = [units * (w / total) for w in weights]
        whole = [Decimal(math.floor(e)) for e in exact]
        order = sorted(range(len(shares)),
                       key=lambda i: (-(exact[i] - whole[i]), -weights[i], shares[i][0]))
        left = units - sum(whole)
        step = 0
        while left > 0:
            whole[order[step % len(order)]] += 1
            left -= 1
            step += 1
        step = 0
        while left < 0:
            i = order[::-1][step % len(order)]
            step += 1
            if whole[i] > 0:
                whole[i] -= 1
                left += 1
        return [round_money((-w if negative else w) / scale, digits) for w in whole]


def split(amount, shares, digits):
    return dict(zip([name for name, _ in shares], allocate(amount, shares, digits)))


def settle(config, departments, lines):
    """The amounts settled per department, per line and per shared line."""
    currency = config["organization"].get("currency", "USD")
    digits = minor_unit_digits(currency)
    invoice = config.get("invoice", {})
    names = [d["name"] for d in config.get("departments", [])]
    names += sorted(n for n in departments if n != UNATTRIBUTED and n not in names)
    if UNATTRIBUTED in departments:
        names.append(UNATTRIBUTED)

    def converted(name):
        return departments[name]["converted"] if name in departments else Decimal(0)

    list_cost = sum((d["list_cost"] for d in departments.values()), Decimal(0))
    usage_pool = round_money(list_cost, digits)
    shared_lines = invoice.get("shared", [])
    shared_total = sum((round_money(dec(s["amount"]), digits) for s in shared_lines), Decimal(0))
    if "total" in invoice:
        amount = round_money(dec(invoice["total"]), digits)
        gap = amount - shared_total - usage_pool
    else:
        amount, gap = usage_pool + shared_total, Decimal(0)

    usage = split(usage_pool, [(n, converted(n)) for n in names], digits)
    unattributed_strategy = invoice.get("unattributed")
    recipients = [n for n in names if not (unattributed_strategy and n == UNATTRIBUTED)]
    proportional = [(n, converted(n)) for n in recipients]

    def split_shared(name, line_amount, strategy, fixed):
        line_amount = round_money(line_amount, digits)
        if strategy == "even":
            used = [(n, Decimal(1)) for n in recipients
                    if n in departments and departments[n]["calls"] > 0]
            shares = used or [(n, Decimal(1)) for n in recipients]
        elif strategy == "fixed":
            shares = [(n, dec(s)) for n, s in sorted(fixed.items())]
        else:
            shares = proportional
        return {"name": name, "amount": line_amount, "strategy": strategy,
                "by_department": split(line_amount, shares, digits)}

    shared = []
    if unattributed_strategy:
        left = usage.get(UNATTRIBUTED, Decimal(0))
        usage[UNATTRIBUTED] = Decimal(0)
        if left != 0:
            shared.append(split_shared(UNATTRIBUTED_LINE, left, unattributed_strategy, {}))
    line_settled = {}
    for name, amount_used in usage.items():
        own = sorted(k for k in lines if k[0] == name)
        for key, value in zip(own, allocate(amount_used, [(k[1], lines[k]["converted"]) for k in own], digits)):
            line_settled[key] = value
    if gap != 0:
        shared.append(split_shared(GAP_LINE, gap, invoice.get("gap_strategy", "proportional"), {}))
    for s in shared_lines:
        shared.append(split_shared(s["name"], dec(s["amount"]), s.get("strategy", "proportional"),
                                   s.get("shares", {})))
    return names, amount, gap, usage, line_settled, shared


# ---------------------------------------------------------------------------------------
# query: run the month and write apportion's figures as JSON
# ---------------------------------------------------------------------------------------

def run_query(args):
    started = time.perf_counter()
    import duckdb  # imported here so that `compare` and `summary` run without it

    config = read_config(args.config)
    spec = source_spec(config, args.log)
    con = duckdb.connect()
    con.execute(f"SET threads = {int(args.threads)}")
    # Timestamps without an offset are read in the source's zone, as apportion reads them.
    con.execute(f"SET TimeZone = {q(spec.get('time_zone') or 'UTC')}")
    sql = build_query(config, os.path.abspath(args.log))
    if args.explain:
        print(con.execute("EXPLAIN ANALYZE " + sql).fetchall()[0][1])
        return 0
    query_started = time.perf_counter()
    cursor = con.execute(sql)
    columns = [c[0] for c in cursor.description]
    rows = [dict(zip(columns, row)) for row in cursor.fetchall()]
    query_seconds = time.perf_counter() - query_started

    document = result_document(config, rows)
    document["engine"] = f"duckdb {duckdb.__version__}, {int(args.threads)} threads"
    document["query_seconds"] = round(query_seconds, 3)
    document["process_seconds_to_result"] = round(time.perf_counter() - started, 3)
    text = json.dumps(document, indent=1, default=str) + "\n"
    if args.out:
        with open(args.out, "w") as f:
            f.write(text)
    else:
        sys.stdout.write(text)
    return 0


def result_document(config, rows):
    """The query's lines, their department sums and the settlement, shaped like apportion's
    JSON report (the fields compared)."""
    lines, departments = {}, {}
    for r in rows:
        tokens = {"input": int(r["input"]), "cached_input": int(r["cached_input"]),
                  "cache_write": int(r["cache_write"]), "cache_write_1h": 0,
                  "output": int(r["output"])}
        line = {"calls": r["calls"], "failed_calls": r["failed_calls"], "rows": r["rows"],
                "tokens": tokens, "list_cost": Decimal(r["list_cost"]),
                "converted": Decimal(r["converted"])}
        lines[(r["department"], r["model"])] = line
        d = departments.setdefault(r["department"], {
            "calls": 0, "failed_calls": 0, "rows": 0, "tokens": dict.fromkeys(TOKEN_KINDS, 0),
            "list_cost": Decimal(0), "converted": Decimal(0)})
        for key in ["calls", "failed_calls", "rows", "list_cost", "converted"]:
            d[key] += line[key]
        for kind in TOKEN_KINDS:
            d["tokens"][kind] += tokens[kind]

    names, amount, gap, usage, line_settled, shared = settle(config, departments, lines)
    empty = {"calls": 0, "failed_calls": 0, "rows": 0, "tokens": dict.fromkeys(TOKEN_KINDS, 0),
             "list_cost": Decimal(0), "converted": Decimal(0)}
    out_departments = []
    for name in names:
        d = departments.get(name, empty)
        shared_part = sum((s["by_department"].get(name, Decimal(0)) for s in shared), Decimal(0))
        usage_part = usage.get(name, Decimal(0))
        out_departments.append({
            "name": name, "calls": d["calls"], "failed_calls": d["failed_calls"],
            "tokens": d["tokens"], "list_cost": str(d["list_cost"]),
            "converted": str(d["converted"]), "usage_settled": str(usage_part),
            "shared_settled": str(shared_part), "settled": str(usage_part + shared_part)})
    illegal = []
    for r in rows:
        for kind, column in [("revoked_key", "revoked_calls"),
                             ("model_not_allowed", "not_allowed_calls")]:
            if r[column]:
                illegal.append({"department": r["department"], "model": r["model"],
                                "kind": kind, "calls": r[column]})
    attributed = sum(d["rows"] for n, d in departments.items() if n != UNATTRIBUTED)
    return {
        "currency": config["organization"].get("currency", "USD"),
        "amount_to_settle": str(amount),
        "list_cost": str(sum((d["list_cost"] for d in departments.values()), Decimal(0))),
        "converted": str(sum((d["converted"] for d in departments.values()), Decimal(0))),
        "settled": str(sum((Decimal(d["settled"]) for d in out_departments), Decimal(0))),
        "gap": str(gap),
        "conservation": {"attributed": attributed,
                         "unattributed": departments.get(UNATTRIBUTED, empty)["rows"]},
        "departments": out_departments,
        "lines": [{"department": k[0], "model": k[1], "calls": v["calls"],
                   "failed_calls": v["failed_calls"], "tokens": v["tokens"],
                   "list_cost": str(v["list_cost"]), "converted": str(v["converted"]),
                   "settled": str(line_settled.get(k, Decimal(0)))}
                  for k, v in sorted(lines.items())],
        "shared": [{"name": s["name"], "amount": str(s["amount"]), "strategy": s["strategy"],
                    "by_department": {k: str(v) for k, v in s["by_department"].items()}}
                   for s in shared],
        "illegal": illegal,
        "unpriced": sorted({r["model"] for r in rows if r["unpriced_calls"]}),
    }


# ---------------------------------------------------------------------------------------
# compare: the two results, figure by figure
# ---------------------------------------------------------------------------------------

def cents(value):
    return round_money(Decimal(value), 2)


class Comparison:
    def __init__(self):
        self.problems = []
        self.checked = 0
        self.exact_money = 0
        self.money = 0

    def same(self, where, what, a, b):
        self.checked += 1
        if a != b:
            self.problems.append(f"{where}: {what}: apportion {a}, duckdb {b}")

    def money_to_cent(self, where, what, a, b):
        """Money agrees when both round to the same cent; exact agreement is counted too."""
        self.checked += 1
        self.money += 1
        if cents(a) != cents(b):
            self.problems.append(f"{where}: {what}: apportion {a}, duckdb {b}")
        elif Decimal(a) == Decimal(b):
            self.exact_money += 1

    def figures(self, where, a, b, money):
        for key in ["calls", "failed_calls"]:
            self.same(where, key, a[key], b[key])
        for kind in TOKEN_KINDS:
            self.same(where, f"tokens.{kind}", a["tokens"][kind], b["tokens"][kind])
        for key in money:
            self.money_to_cent(where, key, a[key], b[key])

    def keyed(self, what, a, b):
        """The keys of two mappings; a key on one side only is a disagreement."""
        for key in sorted(set(a) ^ set(b), key=str):
            side = "apportion" if key in a else "duckdb"
            self.problems.append(f"{what} {key}: only in {side}'s result")
        return sorted(set(a) & set(b), key=str)


def compare(args):
    with open(args.apportion) as f:
        a = json.load(f)
    with open(args.duckdb) as f:
        b = json.load(f)
    c = Comparison()
    for key in ["amount_to_settle", "list_cost", "converted", "settled", "gap"]:
        c.money_to_cent("totals", key, a[key], b[key])
    for key in ["attributed", "unattributed"]:
        c.same("conservation", key, a["conservation"][key], b["conservation"][key])

    da = {d["name"]: d for d in a["departments"]}
    db = {d["name"]: d for d in b["departments"]}
    for name in c.keyed("department", da, db):
        c.figures(f"department {name}", da[name], db[name],
                  ["list_cost", "converted", "usage_settled", "shared_settled", "settled"])

    la = {(x["department"], x["model"]): x for x in a["lines"]}
    lb = {(x["department"], x["model"]): x for x in b["lines"]}
    for key in c.keyed("line", la, lb):
        c.figures(f"line {key[0]} × {key[1]}", la[key], lb[key],
                  ["list_cost", "converted", "settled"])

    sa = {s["name"]: s for s in a["shared"]}
    sb = {s["name"]: s for s in b["shared"]}
    for name in c.keyed("shared line", sa, sb):
        c.money_to_cent(f"shared line {name}", "amount", sa[name]["amount"], sb[name]["amount"])
        pa, pb = sa[name]["by_department"], sb[name]["by_department"]
        for dept in c.keyed(f"shared line {name}, department", pa, pb):
            c.money_to_cent(f"shared line {name}", dept, pa[dept], pb[dept])

    def illegal(doc):
        found = {}
        for x in doc["illegal"]:
            key = (x["department"], x["model"], x["kind"])
            found[key] = found.get(key, 0) + x["calls"]
        return found

    ia, ib = illegal(a), illegal(b)
    for key in c.keyed("illegal calls", ia, ib):
        c.same("illegal calls", " × ".join(key), ia[key], ib[key])
    unpriced_a = sorted(u["model"] for u in a["unpriced"])
    c.same("unpriced models", "names", unpriced_a, b["unpriced"])

    label = args.label or os.path.basename(args.apportion)
    if c.problems:
        print(f"DISAGREEMENT ({label}): {len(c.problems)} of {c.checked} figures differ")
        for p in c.problems:
            print(f"  {p}")
        return 1
    print(f"agree ({label}): {c.checked} figures over {len(da)} departments, {len(la)} lines "
          f"and {len(sa)} shared lines; money to the cent, {c.exact_money} of {c.money} "
          f"amounts to the last digit")
    return 0


# ---------------------------------------------------------------------------------------
# summary: the timings as a table
# ---------------------------------------------------------------------------------------

def machine():
    model = "unknown CPU"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    memory = "unknown memory"
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemTotal:"):
                    memory = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB memory"
                    break
    except OSError:
        pass
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return f"{cpus} CPUs ({model}), {memory}"


def summary(args):
    runs = {}
    with open(args.timings) as f:
        for line in f:
            if not line.strip() or line.startswith("#"):
                continue
            rows, tool, seconds, kib, query = line.split()
            entry = runs.setdefault(int(rows), {}).setdefault(
                tool, {"seconds": [], "kib": [], "query": []})
            entry["seconds"].append(float(seconds))
            entry["kib"].append(int(kib))
            if query != "-":
                entry["query"].append(float(query))
    files = dict(item.split("=", 1) for item in args.files)

    print(f"Machine: {machine()}; DuckDB with 2 threads; files in the page cache.")
    print("Seconds are the median wall time of whole processes (DuckDB's include starting")
    print("Python and importing duckdb); memory is the largest peak RSS over the runs.")
    print()
    print("| rows | file | runs | apportion s | DuckDB s | DuckDB / apportion "
          "| DuckDB query only s | apportion peak MiB | DuckDB peak MiB |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for rows in sorted(runs):
        a, d = runs[rows]["apportion"], runs[rows]["duckdb"]
        size = os.path.getsize(files[str(rows)]) / 1e6
        size_text = f"{size / 1000:.2f} GB" if size >= 1000 else f"{size:.0f} MB"
        a_s, d_s = statistics.median(a["seconds"]), statistics.median(d["seconds"])
        print(f"| {rows:,} | {size_text} | {len(a['seconds'])} | {a_s:.2f} | {d_s:.2f} "
              f"| {d_s / a_s:.2f} | {statistics.median(d['query']):.2f} "
              f"| {max(a['kib']) / 1024:.0f} | {max(d['kib']) / 1024:.0f} |")
    return 0


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    p = commands.add_parser("query", help="run the month in DuckDB and write its figures")
    p.add_argument("--config", required=True)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--out", help="write the JSON here rather than to standard output")
    p.add_argument("--explain", action="store_true", help="print the profiled plan instead")
    p.add_argument("log")
    p = commands.add_parser("compare", help="compare apportion's JSON report with the query's")
    p.add_argument("apportion")
    p.add_argument("duckdb")
    p.add_argument("--label")
    p = commands.add_parser("summary", help="print the timings as a table")
    p.add_argument("timings", help="lines of: rows tool seconds peak_kib query_seconds")
    p.add_argument("files", nargs="+", help="ROWS=LOG.csv, for the file sizes")
    args = parser.parse_args()
    return {"query": run_query, "compare": compare, "summary": summary}[args.command](args)


if __name__ == "__main__":
    sys.exit(main())
