//! A deterministic generator of a realistic month: a fictional company's gateway log for
//! November 2026, its configuration and its prior ledger.
//!
//! The month is built so that every feature has something to show: about ten departments and
//! three hundred API keys; office-hour and weekday patterns in the organization's zone; one
//! department that spikes (a campaign over three days, and growth over October), one over
//! budget, one illegal call, a few unmapped keys, a few bad rows, a gateway that prices one
//! model with a stale rate, an invoice a little above the list cost with a platform fee, a
//! support plan and tax to share, and an October ledger (plus two November accruals, one of
//! which disagrees). The logs end five days before the month does.
//!
//! Rows are written in time order hour by hour, so any number of rows streams to disk in
//! bounded memory. Budgets, the invoice and the ledger are derived from a calculation over
//! the generated log, so that the statuses are the intended ones whatever the row count.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;

use chrono::{Datelike, Duration, NaiveDate, TimeZone, Weekday};
use chrono_tz::Tz;
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use rust_decimal::Decimal;

use super::{CONFIG_NAME, LEDGER_NAME, LOGS_NAME};
use crate::calc::allocate::{Share, allocate};
use crate::calc::{Attribution, calculate};
use crate::config::Settings;
use crate::load::ledger::Ledger;
use crate::load::load_files;

/// The organization's zone.
const ZONE: Tz = Tz::Europe__Berlin;
/// The last day with logs.
const LAST_LOG_DAY: u32 = 25;
/// The days Marketing's campaign runs, and how much it multiplies their usage.
const CAMPAIGN: (u32, u32, u32) = (17, 19, 4);

/// A model: name, price per million (input, cached input, cache write, output), complexity,
/// tier, and dated snapshot names the gateway sometimes logs.
struct ModelPlan {
    name: &'static str,
    prices: [&'static str; 4],
    complexity: &'static str,
    tier: &'static str,
    snapshot: Option<&'static str>,
    /// Typical input and output tokens of a call.
    shape: (u64, u64),
}

const MODELS: [ModelPlan; 11] = [
    ModelPlan {
        name: "gpt-4o",
        prices: ["2.50", "1.25", "", "10.00"],
        complexity: "1.5",
        tier: "standard",
        snapshot: Some("gpt-4o-2024-08-06"),
        shape: (9000, 840),
    },
    ModelPlan {
        name: "gpt-4o-mini",
        prices: ["0.15", "0.075", "", "0.60"],
        complexity: "0.6",
        tier: "baseline",
        snapshot: Some("gpt-4o-mini-2024-07-18"),
        shape: (6000, 600),
    },
    ModelPlan {
        name: "gpt-4.1",
        prices: ["2.00", "0.50", "", "8.00"],
        complexity: "1.4",
        tier: "standard",
        snapshot: Some("gpt-4.1-2025-04-14"),
        shape: (13000, 1040),
    },
    ModelPlan {
        name: "gpt-4.1-mini",
        prices: ["0.40", "0.10", "", "1.60"],
        complexity: "0.7",
        tier: "baseline",
        snapshot: Some("gpt-4.1-mini-2025-04-14"),
        shape: (7000, 640),
    },
    ModelPlan {
        name: "o3",
        prices: ["2.00", "0.50", "", "8.00"],
        complexity: "2.5",
        tier: "premium",
        snapshot: Some("o3-2025-04-16"),
        shape: (16000, 4800),
    },
    ModelPlan {
        name: "o4-mini",
        prices: ["1.10", "0.275", "", "4.40"],
        complexity: "1.6",
        tier: "standard",
        snapshot: Some("o4-mini-2025-04-16"),
        shape: (11000, 3200),
    },
    ModelPlan {
        name: "claude-sonnet-4",
        prices: ["3.00", "0.30", "3.75", "15.00"],
        complexity: "1.6",
        tier: "standard",
        snapshot: Some("claude-sonnet-4-20250514"),
        shape: (21000, 1300),
    },
    ModelPlan {
        name: "claude-opus-4-1",
        prices: ["15.00", "1.50", "18.75", "75.00"],
        complexity: "3.0",
        tier: "premium",
        snapshot: Some("claude-opus-4-1-20250805"),
        shape: (19000, 1400),
    },
    ModelPlan {
        name: "claude-3-5-haiku",
        prices: ["0.80", "0.08", "1.00", "4.00"],
        complexity: "0.6",
        tier: "baseline",
        snapshot: Some("claude-3-5-haiku-20241022"),
        shape: (7500, 560),
    },
    ModelPlan {
        name: "gemini-2.5-pro",
        prices: ["1.25", "0.31", "", "10.00"],
        complexity: "2.0",
        tier: "premium",
        snapshot: None,
        shape: (26000, 1800),
    },
    ModelPlan {
        name: "text-embedding-3-small",
        prices: ["0.02", "", "", "0"],
        complexity: "0.2",
        tier: "baseline",
        snapshot: None,
        shape: (4500, 0),
    },
];

/// The gateway's price table is stale for one model: it still charges this input price.
const STALE: (&str, &str) = ("gpt-4.1", "2.20");

/// A department of the fictional company.
struct DeptPlan {
    name: &'static str,
    slug: &'static str,
    owner: &'static str,
    cost_center: &'static str,
    keys: usize,
    volume: u32,
    mix: &'static [(&'static str, u32)],
    allowed: &'static [&'static str],
    baseline: &'static str,
    /// Budget usage to date that the budget is set for.
    target_usage: &'static str,
    /// October's settled amount as a fraction of November's to date.
    prior_factor: &'static str,
    team: &'static str,
}

const DEPARTMENTS: [DeptPlan; 10] = [
    DeptPlan {
        name: "Research",
        slug: "res",
        owner: "Dr. Amara Okafor",
        cost_center: "CC-4100",
        keys: 40,
        volume: 14,
        mix: &[
            ("o3", 2),
            ("claude-opus-4-1", 1),
            ("claude-sonnet-4", 4),
            ("gpt-4.1", 3),
            ("gemini-2.5-pro", 1),
        ],
        allowed: &[],
        baseline: "gpt-4.1-mini",
        target_usage: "0.62",
        prior_factor: "0.97",
        team: "research",
    },
    DeptPlan {
        name: "Engineering",
        slug: "eng",
        owner: "Lena Fischer",
        cost_center: "CC-4200",
        keys: 60,
        volume: 22,
        mix: &[
            ("claude-sonnet-4", 6),
            ("gpt-4.1", 3),
            ("o4-mini", 2),
            ("gpt-4o-mini", 2),
        ],
        allowed: &[],
        baseline: "gpt-4.1-mini",
        target_usage: "0.68",
        prior_factor: "1.04",
        team: "platform",
    },
    DeptPlan {
        name: "Product",
        slug: "prd",
        owner: "Jonas Weber",
        cost_center: "CC-4300",
        keys: 20,
        volume: 6,
        mix: &[("gpt-4o", 4), ("gpt-4o-mini", 4), ("claude-sonnet-4", 2)],
        allowed: &[],
        baseline: "gpt-4o-mini",
        target_usage: "0.55",
        prior_factor: "0.92",
        team: "product",
    },
    DeptPlan {
        name: "Marketing",
        slug: "mkt",
        owner: "Sofia Marquez",
        cost_center: "CC-5100",
        keys: 25,
        volume: 7,
        mix: &[("gpt-4o", 5), ("gpt-4o-mini", 3), ("gemini-2.5-pro", 2)],
        allowed: &[],
        baseline: "gpt-4o-mini",
        target_usage: "0.70",
        prior_factor: "0.55",
        team: "growth",
    },
    DeptPlan {
        name: "Sales",
        slug: "sal",
        owner: "Marcus Brandt",
        cost_center: "CC-5200",
        keys: 30,
        volume: 8,
        mix: &[("gpt-4o-mini", 6), ("gpt-4o", 3), ("claude-3-5-haiku", 2)],
        allowed: &[],
        baseline: "gpt-4o-mini",
        target_usage: "0.50",
        prior_factor: "1.08",
        team: "Sales, EMEA",
    },
    DeptPlan {
        name: "Customer Support",
        slug: "sup",
        owner: "Priya Raman",
        cost_center: "CC-5300",
        keys: 35,
        volume: 12,
        mix: &[
            ("claude-3-5-haiku", 5),
            ("gpt-4o-mini", 5),
            ("text-embedding-3-small", 3),
        ],
        allowed: &[
            "claude-3-5-haiku*",
            "gpt-4o-mini*",
            "gpt-4.1-mini*",
            "text-embedding-*",
        ],
        baseline: "claude-3-5-haiku",
        target_usage: "0.60",
        prior_factor: "1.01",
        team: "support",
    },
    DeptPlan {
        name: "Finance",
        slug: "fin",
        owner: "Henrik Lund",
        cost_center: "CC-6100",
        keys: 10,
        volume: 3,
        mix: &[("gpt-4.1", 3), ("gpt-4.1-mini", 4)],
        allowed: &[],
        baseline: "gpt-4.1-mini",
        target_usage: "0.45",
        prior_factor: "0.95",
        team: "finance",
    },
    DeptPlan {
        name: "Legal",
        slug: "leg",
        owner: "Claire Dubois",
        cost_center: "CC-6200",
        keys: 8,
        volume: 2,
        mix: &[("gpt-4.1", 3), ("claude-3-5-haiku", 3)],
        allowed: &["gpt-4.1*", "claude-3-5-haiku*", "gpt-4o-mini*"],
        baseline: "claude-3-5-haiku",
        target_usage: "0.50",
        prior_factor: "1.00",
        team: "legal",
    },
    DeptPlan {
        name: "Data Science",
        slug: "dsc",
        owner: "Yuki Tanaka",
        cost_center: "CC-4400",
        keys: 45,
        volume: 16,
        mix: &[
            ("gpt-4.1", 3),
            ("o3", 1),
            ("claude-sonnet-4", 3),
            ("text-embedding-3-small", 5),
            ("o4-mini", 2),
        ],
        allowed: &[],
        baseline: "gpt-4.1-mini",
        target_usage: "1.04",
        prior_factor: "0.90",
        team: "data",
    },
    DeptPlan {
        name: "Operations",
        slug: "ops",
        owner: "Tomasz Nowak",
        cost_center: "CC-6300",
        keys: 15,
        volume: 5,
        mix: &[
            ("gpt-4o-mini", 5),
            ("gpt-4.1-mini", 3),
            ("claude-3-5-haiku", 2),
        ],
        allowed: &[],
        baseline: "gpt-4o-mini",
        target_usage: "0.58",
        prior_factor: "0.98",
        team: "ops",
    },
];

/// Keys of batch services nobody mapped to a department.
const UNMAPPED: (usize, u32, &[(&str, u32)]) =
    (5, 1, &[("gpt-4o-mini", 3), ("claude-sonnet-4", 1)]);

/// Keys shared between departments, mapped by tag instead of by key.
const SHARED_KEYS: usize = 4;

const FIRST_NAMES: [&str; 16] = [
    "anna", "ben", "chen", "dara", "emil", "fatima", "george", "hana", "ivan", "julia", "kofi",
    "lea", "mateo", "nina", "omar", "paula",
];
const LAST_NAMES: [&str; 12] = [
    "schmidt", "meyer", "rossi", "kim", "novak", "silva", "haddad", "berg", "ito", "moreau",
    "wolf", "lopez",
];

/// One API key and who is behind it.
struct Key {
    id: String,
    department: Option<usize>,
    user: String,
    project: String,
    tags: String,
}

/// Writes the configuration, the log and the ledger of a month into `dir`.
pub fn write_month(dir: &Path, rows: u64, seed: u64) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let mut rng = SmallRng::seed_from_u64(seed);
    let keys = make_keys(&mut rng);
    let logs_path = dir.join(LOGS_NAME);
    write_logs(&logs_path, &keys, rows, &mut rng)?;

    // First pass: the list cost of the log decides the invoice.
    let plain = settings(&config_text(&BTreeMap::new(), None))?;
    let first = calculate_month(&plain, &logs_path)?;
    let invoice = Invoice::for_list_cost(first.list_cost);

    // Second pass: the settled amounts decide the budgets.
    let with_invoice = settings(&config_text(&BTreeMap::new(), Some(&invoice)))?;
    let second = calculate_month(&with_invoice, &logs_path)?;
    let budgets = budgets(&second);

    let text = config_text(&budgets, Some(&invoice));
    crate::write::atomic(&dir.join(CONFIG_NAME), text.as_bytes())?;
    crate::write::atomic(
        &dir.join(LEDGER_NAME),
        ledger_text(&second, &mut rng).as_bytes(),
    )?;
    Ok(())
}

fn settings(text: &str) -> std::io::Result<Settings> {
    Settings::from_toml(text, Path::new(CONFIG_NAME)).map_err(std::io::Error::other)
}

fn calculate_month(settings: &Settings, logs: &Path) -> std::io::Result<Attribution> {
    let dataset = load_files(settings, &[logs.to_path_buf()]).map_err(std::io::Error::other)?;
    Ok(calculate(settings, &dataset, None::<&Ledger>, super::TODAY))
}

fn make_keys(rng: &mut SmallRng) -> Vec<Key> {
    let mut keys = Vec::new();
    let person = |rng: &mut SmallRng| {
        format!(
            "{}.{}",
            FIRST_NAMES[rng.gen_range(0..FIRST_NAMES.len())],
            LAST_NAMES[rng.gen_range(0..LAST_NAMES.len())]
        )
    };
    for (index, dept) in DEPARTMENTS.iter().enumerate() {
        for n in 0..dept.keys {
            let shared = (dept.slug == "sup" || dept.slug == "ops") && n < SHARED_KEYS;
            let prefix = if shared { "shared" } else { dept.slug };
            let tags = if shared {
                format!("env:prod;dept:{}", dept.slug)
            } else {
                "env:prod".to_string()
            };
            keys.push(Key {
                id: format!(
                    "sk-{prefix}-{:08x}{:04x}",
                    rng.r#gen::<u32>(),
                    rng.r#gen::<u16>()
                ),
                department: Some(index),
                user: person(rng),
                project: format!(
                    "{}-{}",
                    dept.slug,
                    ["assistant", "pipeline", "eval", "tools"][n % 4]
                ),
                tags,
            });
        }
    }
    for _ in 0..UNMAPPED.0 {
        keys.push(Key {
            id: format!(
                "sk-svc-{:08x}{:04x}",
                rng.r#gen::<u32>(),
                rng.r#gen::<u16>()
            ),
            department: None,
            user: "svc.batch".into(),
            project: "nightly-batch".into(),
            tags: "env:batch".into(),
        });
    }
    keys
}

/// Relative volume of a local hour: office hours on weekdays, a little at night and on
/// weekends.
fn hour_weight(day: NaiveDate, hour: u32) -> u32 {
    let weekend = matches!(day.weekday(), Weekday::Sat | Weekday::Sun);
    let office = match hour {
        9..=11 | 13..=16 => 10,
        8 | 12 | 17 => 7,
        18 | 19 => 4,
        7 | 20 | 21 => 2,
        _ => 1,
    };
    if weekend { office.min(3) } else { office }
}

/// How many rows each local hour of the logged days gets, exactly `rows` in all.
fn rows_per_hour(rows: u64) -> Vec<(NaiveDate, u32, u64)> {
    let first = NaiveDate::from_ymd_opt(2026, 11, 1).unwrap_or_default();
    let hours: Vec<(NaiveDate, u32)> = (0..LAST_LOG_DAY)
        .flat_map(|d| (0..24).map(move |h| (first + Duration::days(i64::from(d)), h)))
        .collect();
    let names: Vec<String> = hours.iter().map(|(d, h)| format!("{d}T{h:02}")).collect();
    let shares: Vec<Share> = hours
        .iter()
        .zip(&names)
        .map(|((d, h), name)| Share {
            name,
            weight: Decimal::from(hour_weight(*d, *h)),
        })
        .collect();
    let counts = allocate(Decimal::from(rows), &shares, 0);
    hours
        .into_iter()
        .zip(counts)
        .map(|((d, h), c)| (d, h, u64::try_from(c.mantissa()).unwrap_or(0)))
        .collect()
}

fn write_logs(path: &Path, keys: &[Key], rows: u64, rng: &mut SmallRng) -> std::io::Result<()> {
    let mut out = BufWriter::new(File::create(path)?);
    writeln!(
        out,
        "request_id,timestamp,api_key,user,team,project,tags,model,input_tokens,cached_input_tokens,cache_write_tokens,output_tokens,cost,currency,status"
    )?;
    let mut next_id = 0u64;
    let mut wrote_illegal = false;
    for (day, hour, count) in rows_per_hour(rows) {
        let mut seconds: Vec<u32> = (0..count).map(|_| rng.gen_range(0..3_600_000)).collect();
        seconds.sort_unstable();
        for millis in seconds {
            next_id += 1;
            let local = day.and_hms_opt(hour, 0, 0).unwrap_or_default()
                + Duration::milliseconds(i64::from(millis));
            let key = pick_key(keys, day, rng);
            let illegal =
                !wrote_illegal && day.day() == 12 && hour == 15 && key.department == Some(7);
            let model = if illegal {
                "claude-opus-4-1"
            } else {
                pick_model(key, rng)
            };
            wrote_illegal |= illegal;
            // The illegal call must count as a call, so it never fails.
            write_row(&mut out, next_id, local, key, model, illegal, rng)?;
        }
    }
    write_bad_rows(&mut out, keys)?;
    out.flush()
}

fn pick_key<'a>(keys: &'a [Key], day: NaiveDate, rng: &mut SmallRng) -> &'a Key {
    let weight = |key: &Key| -> u32 {
        let Some(d) = key.department else {
            return UNMAPPED.1 * 1000 / UNMAPPED.0 as u32;
        };
        let plan = &DEPARTMENTS[d];
        let campaign = plan.slug == "mkt" && (CAMPAIGN.0..=CAMPAIGN.1).contains(&day.day());
        let base = plan.volume * 1000 / plan.keys as u32;
        if campaign { base * CAMPAIGN.2 } else { base }
    };
    let total: u32 = keys.iter().map(weight).sum();
    let mut pick = rng.gen_range(0..total);
    for key in keys {
        let w = weight(key);
        if pick < w {
            return key;
        }
        pick -= w;
    }
    &keys[keys.len() - 1]
}

fn pick_model(key: &Key, rng: &mut SmallRng) -> &'static str {
    let mix = key.department.map_or(UNMAPPED.2, |d| DEPARTMENTS[d].mix);
    let total: u32 = mix.iter().map(|(_, w)| w).sum();
    let mut pick = rng.gen_range(0..total);
    for (model, w) in mix {
        if pick < *w {
            return model;
        }
        pick -= w;
    }
    mix[0].0
}

fn model_plan(name: &str) -> &'static ModelPlan {
    MODELS.iter().find(|m| m.name == name).unwrap_or(&MODELS[0])
}

fn write_row(
    out: &mut impl Write,
    id: u64,
    local: chrono::NaiveDateTime,
    key: &Key,
    model: &str,
    succeeds: bool,
    rng: &mut SmallRng,
) -> std::io::Result<()> {
    let plan = model_plan(model);
    let utc = ZONE
        .from_local_datetime(&local)
        .earliest()
        .map(|t| t.to_utc())
        .unwrap_or_default();
    let long = rng.gen_ratio(1, 10);
    let scale = |base: u64, rng: &mut SmallRng| -> u64 {
        let value = base * rng.gen_range(50..=150) / 100;
        if long { value * 2 } else { value }
    };
    let input = scale(plan.shape.0, rng);
    let output = if plan.shape.1 == 0 {
        0
    } else {
        scale(plan.shape.1, rng)
    };
    let cached = if plan.prices[1].is_empty() || !rng.gen_ratio(1, 3) {
        0
    } else {
        input * rng.gen_range(20..70) / 100
    };
    let cache_write = if plan.prices[2].is_empty() || !rng.gen_ratio(1, 8) {
        0
    } else {
        rng.gen_range(500..3000)
    };
    let failed = rng.gen_ratio(3, 200) && !succeeds;
    let status = if failed { "error" } else { "success" };
    let cost = if failed {
        Decimal::ZERO
    } else {
        gateway_cost(plan, input - cached, cached, cache_write, output)
    };
    let name = match plan.snapshot {
        Some(snapshot) if rng.gen_ratio(1, 3) => snapshot,
        _ => plan.name,
    };
    let team = DEPARTMENTS
        .get(key.department.unwrap_or(usize::MAX))
        .map_or("batch", |d| d.team);
    writeln!(
        out,
        "req_{id:09},{},{},{},{},{},{},{name},{input},{cached},{cache_write},{output},{},USD,{status}",
        utc.format("%Y-%m-%dT%H:%M:%S%.3fZ"),
        key.id,
        key.user,
        csv_field(team),
        key.project,
        key.tags,
        cost.round_dp(8),
    )
}

fn csv_field(text: &str) -> String {
    if text.contains([',', '"']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_string()
    }
}

/// The cost the gateway reports: list prices, except the one model it prices stale.
fn gateway_cost(plan: &ModelPlan, uncached: u64, cached: u64, write: u64, output: u64) -> Decimal {
    let price = |i: usize| -> Decimal {
        let text = if i == 0 && plan.name == STALE.0 {
            STALE.1
        } else {
            plan.prices[i]
        };
        let text = if text.is_empty() {
            plan.prices[0]
        } else {
            text
        };
        text.parse().unwrap_or_default()
    };
    let input_price = price(0);
    let cached_price = if plan.prices[1].is_empty() {
        input_price
    } else {
        price(1)
    };
    let write_price = if plan.prices[2].is_empty() {
        input_price
    } else {
        price(2)
    };
    (Decimal::from(uncached) * input_price
        + Decimal::from(cached) * cached_price
        + Decimal::from(write) * write_price
        + Decimal::from(output) * price(3))
        / Decimal::from(1_000_000)
}

/// Rows a real gateway export contains now and then, each rejected with its reason: a retry
/// logged twice, a row from the previous month, and a row cut off by a crash.
fn write_bad_rows(out: &mut impl Write, keys: &[Key]) -> std::io::Result<()> {
    let key = &keys[0];
    writeln!(
        out,
        "req_000000042,2026-11-02T10:15:00.000Z,{},{},research,res-assistant,env:prod,gpt-4.1,1000,0,0,200,0.0038,USD,success",
        key.id, key.user
    )?;
    writeln!(
        out,
        "req_late_0001,2026-10-31T22:59:59.000Z,{},{},research,res-assistant,env:prod,gpt-4.1,1000,0,0,200,0.0038,USD,success",
        key.id, key.user
    )?;
    writeln!(
        out,
        "req_crash_0001,2026-11-25T23:5,{},{},research,res-assistant,env:prod,gpt-4.1,10",
        key.id, key.user
    )
}

/// The invoice of the month: usage a little above our list cost, plus shared lines.
struct Invoice {
    usage: Decimal,
    platform_fee: Decimal,
    support_plan: Decimal,
    tax: Decimal,
}

impl Invoice {
    fn for_list_cost(list_cost: Decimal) -> Invoice {
        let usage = (list_cost * Decimal::new(10081, 4)).round_dp(2);
        let platform_fee = Decimal::new(15000, 2);
        let support_plan = Decimal::new(10000, 2);
        let tax = ((usage + platform_fee + support_plan) * Decimal::new(19, 2)).round_dp(2);
        Invoice {
            usage,
            platform_fee,
            support_plan,
            tax,
        }
    }

    fn total(&self) -> Decimal {
        self.usage + self.platform_fee + self.support_plan + self.tax
    }
}

/// Budgets that put each department at its planned usage to date.
fn budgets(attribution: &Attribution) -> BTreeMap<String, Decimal> {
    DEPARTMENTS
        .iter()
        .map(|plan| {
            let settled = attribution
                .department(plan.name)
                .map_or(Decimal::ZERO, |d| d.settled);
            let target: Decimal = plan.target_usage.parse().unwrap_or(Decimal::ONE);
            let ten = Decimal::TEN;
            let budget = (settled / target / ten).round() * ten;
            (plan.name.to_string(), budget.max(ten))
        })
        .collect()
}

fn config_text(budgets: &BTreeMap<String, Decimal>, invoice: Option<&Invoice>) -> String {
    let mut text = String::from(CONFIG_HEAD);
    for plan in &DEPARTMENTS {
        let budget = budgets.get(plan.name).copied().unwrap_or(Decimal::ONE);
        let allowed: Vec<String> = plan.allowed.iter().map(|a| format!("\"{a}\"")).collect();
        let _ = write!(
            text,
            "\n[[departments]]\nname = \"{}\"\nbudget = \"{budget}\"\nowner = \"{}\"\ncontact = \"{}@northwind.example\"\ncost_center = \"{}\"\nallowed_models = [{}]\nbaseline_model = \"{}\"\n",
            plan.name,
            plan.owner,
            plan.slug,
            plan.cost_center,
            allowed.join(", "),
            plan.baseline
        );
    }
    text.push_str(
        "\n# Mapping rules, first match wins: shared keys by their tag, then keys by prefix.\n",
    );
    for (tag, name) in [("dept:sup", "Customer Support"), ("dept:ops", "Operations")] {
        let _ = write!(
            text,
            "[[mapping]]\ntag = \"{tag}\"\ndepartment = \"{name}\"\n\n"
        );
    }
    for plan in &DEPARTMENTS {
        let _ = write!(
            text,
            "[[mapping]]\napi_key = \"sk-{}-*\"\ndepartment = \"{}\"\n\n",
            plan.slug, plan.name
        );
    }
    text.push_str(
        "# Prices in USD per million tokens (public list prices), complexity and tier.\n",
    );
    for model in &MODELS {
        let _ = write!(text, "[[models]]\nname = \"{}\"\n", model.name);
        if let Some(snapshot) = model.snapshot {
            let glob = format!(
                "{}-*",
                snapshot.rsplit_once('-').map_or(snapshot, |(head, _)| head)
            );
            let glob = if snapshot.starts_with("claude") {
                format!("{}-*", model.name)
            } else {
                glob
            };
            let _ = writeln!(text, "aliases = [\"{glob}\"]");
        }
        let [input, cached, write, output] = model.prices;
        let _ = writeln!(text, "input = \"{input}\"");
        if !cached.is_empty() {
            let _ = writeln!(text, "cached_input = \"{cached}\"");
        }
        if !write.is_empty() {
            let _ = writeln!(text, "cache_write = \"{write}\"");
        }
        let _ = write!(
            text,
            "output = \"{output}\"\ncomplexity = \"{}\"\ntier = \"{}\"\n\n",
            model.complexity, model.tier
        );
    }
    text.push_str(CONFIG_WEIGHTS);
    if let Some(invoice) = invoice {
        let _ = write!(
            text,
            "\n[invoice]\n# usage {} + platform fee {} + support plan {} + tax {}\ntotal = \"{}\"\ngap_strategy = \"proportional\"\n\n\
             [[invoice.shared]]\nname = \"Platform fee\"\namount = \"{}\"\nstrategy = \"even\"\n\n\
             [[invoice.shared]]\nname = \"Support plan\"\namount = \"{}\"\nstrategy = \"fixed\"\nshares = {{ \"Engineering\" = 50, \"Research\" = 30, \"Data Science\" = 20 }}\n\n\
             [[invoice.shared]]\nname = \"Tax (19 %)\"\namount = \"{}\"\nstrategy = \"proportional\"\n",
            invoice.usage,
            invoice.platform_fee,
            invoice.support_plan,
            invoice.tax,
            invoice.total(),
            invoice.platform_fee,
            invoice.support_plan,
            invoice.tax
        );
    }
    text.push_str(CONFIG_ALERTS);
    text
}

const CONFIG_ALERTS: &str = r#"
# Alerts are written as messages into the folder given to `apportion export --alerts`; add an
# [alerts.smtp] table (host, port, security, username, password_env) to send them.
[alerts]
from = "apportion <apportion@northwind.example>"
settlement_contact = "finops@northwind.example"
"#;

const CONFIG_HEAD: &str = r#"# Sample month of apportion: Northwind Analytics, November 2026.
# Written by `apportion sample`; the figures are fictional.

revoked_keys = ["sk-leg-0badc0de0000"]

[organization]
name = "Northwind Analytics"
time_zone = "Europe/Berlin"
currency = "USD"

[period]
month = "2026-11"
review_window_days = 5

[[sources]]
pattern = "gateway-*.csv"
# The gateway's export uses the generic column names; cached tokens are part of input.
"#;

const CONFIG_WEIGHTS: &str = r#"[time_weights]
default = "0.8"

[[time_weights.windows]]
name = "peak"
days = ["mon", "tue", "wed", "thu", "fri"]
start_hour = 9
end_hour = 18
weight = "1.2"
"#;

/// October per department and model, and two November accruals of Finance, one of which
/// disagrees with the computed line by 12.40.
fn ledger_text(attribution: &Attribution, rng: &mut SmallRng) -> String {
    let mut text = String::from("period,department,model,amount,currency,tokens\n");
    for plan in &DEPARTMENTS {
        let Some(department) = attribution.department(plan.name) else {
            continue;
        };
        let factor: Decimal = plan.prior_factor.parse().unwrap_or(Decimal::ONE);
        let prior = (department.settled * factor).round_dp(2);
        let lines: Vec<_> = attribution
            .lines
            .iter()
            .filter(|l| l.department == plan.name)
            .collect();
        let shares: Vec<Share> = lines
            .iter()
            .map(|l| Share {
                name: &l.model,
                weight: l.settled,
            })
            .collect();
        for (line, amount) in lines.iter().zip(allocate(prior, &shares, 2)) {
            let tokens = Decimal::from(line.tokens.total())
                * factor
                * Decimal::new(rng.gen_range(95..105), 2);
            let _ = writeln!(
                text,
                "2026-10,{},{},{amount:.2},USD,{}",
                plan.name,
                line.model,
                tokens.round()
            );
        }
    }
    let finance: Vec<_> = attribution
        .lines
        .iter()
        .filter(|l| l.department == "Finance")
        .take(2)
        .collect();
    for (index, line) in finance.iter().enumerate() {
        let amount = if index == 0 {
            line.settled
        } else {
            line.settled + Decimal::new(1240, 2)
        };
        let _ = writeln!(text, "2026-11,Finance,{},{amount:.2},USD,", line.model);
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The month is built to show one illegal call, whatever its size: that call never fails.
    #[test]
    fn the_illegal_call_succeeds_in_a_month_of_any_size() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(LOGS_NAME);
        let mut rng = SmallRng::seed_from_u64(crate::sample::DEFAULT_SEED);
        let keys = make_keys(&mut rng);
        write_logs(&path, &keys, 300_000, &mut rng).unwrap();
        let logs = std::fs::read_to_string(&path).unwrap();
        let illegal: Vec<&str> = logs
            .lines()
            .filter(|line| line.contains(",sk-leg-") && line.contains(",claude-opus-4-1,"))
            .collect();
        assert_eq!(illegal.len(), 1, "{illegal:?}");
        assert!(illegal[0].ends_with(",success"), "{}", illegal[0]);
    }

    #[test]
    fn hours_get_exactly_the_rows_asked_for() {
        let hours = rows_per_hour(10_007);
        assert_eq!(hours.iter().map(|h| h.2).sum::<u64>(), 10_007);
        assert_eq!(hours.len(), 25 * 24);
        let monday_ten = hours
            .iter()
            .find(|h| h.0.day() == 2 && h.1 == 10)
            .unwrap()
            .2;
        let sunday_ten = hours
            .iter()
            .find(|h| h.0.day() == 1 && h.1 == 10)
            .unwrap()
            .2;
        assert!(
            monday_ten > sunday_ten * 2,
            "office hours are busier than Sundays"
        );
    }
}
