//! Properties that must hold for any input: every row is accounted for, settled amounts sum
//! to the amount to settle, and local days partition the month in any time zone.

use std::path::Path;

use apportion::calc::calculate;
use apportion::config::Settings;
use apportion::load::{Input, load_inputs};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use proptest::prelude::*;
use rust_decimal::Decimal;

const ZONES: [&str; 6] = [
    "UTC",
    "Europe/Berlin",
    "America/New_York",
    "Asia/Kolkata",
    "Australia/Lord_Howe",
    "Pacific/Chatham",
];

fn config(zone: &str, month: &str) -> Settings {
    let text = format!(
        r#"
[organization]
name = "Property Co"
time_zone = "{zone}"
currency = "USD"

[period]
month = "{month}"

[[departments]]
name = "A"
budget = 50

[[departments]]
name = "B"
budget = 0

[[mapping]]
api_key = "a-*"
department = "A"

[[mapping]]
tag = "b"
department = "B"

[[models]]
name = "m1"
input = 3
output = 15
complexity = 2.5

[[models]]
name = "m2"
input = 0.15
cached_input = 0.075
output = 0.6

[time_weights]
default = 0.8

[[time_weights.windows]]
days = ["mon", "tue", "wed", "thu", "fri"]
start_hour = 9
end_hour = 18
weight = 1.2

[invoice]
total = 100.00

[[invoice.shared]]
name = "Tax"
amount = 7.77
strategy = "proportional"

[[invoice.shared]]
name = "Fee"
amount = 3.33
strategy = "even"
"#
    );
    Settings::from_toml(&text, Path::new("p.toml")).unwrap()
}

/// One generated row: either a good call or one of several kinds of bad row. (A line with
/// nothing on it at all is not a CSV record and so not a row; a row of empty fields is.)
#[derive(Debug, Clone)]
enum Row {
    Good {
        minutes: i64,
        caller: u8,
        model: u8,
        input: u32,
        cached: u32,
        output: u32,
        failed: bool,
    },
    BadTokens(i64),
    BadTime,
    Truncated,
    Outside(i64),
    Blank,
}

fn arb_row() -> impl Strategy<Value = Row> {
    prop_oneof![
        8 => (0i64..44_640, 0u8..4, 0u8..3, 0u32..100_000, 0u32..50_000, 0u32..20_000, prop::bool::weighted(0.1))
            .prop_map(|(minutes, caller, model, input, cached, output, failed)| Row::Good { minutes, caller, model, input, cached: cached.min(input), output, failed }),
        1 => (0i64..44_640).prop_map(Row::BadTokens),
        1 => Just(Row::BadTime),
        1 => Just(Row::Truncated),
        1 => (1i64..2000).prop_map(Row::Outside),
        1 => Just(Row::Blank),
    ]
}

/// Writes rows as CSV, timestamps as minutes from the start of the month in UTC (a little
/// before and after it too, so that zones with offsets see calls on their edge days).
fn csv(rows: &[Row], start: DateTime<Utc>) -> String {
    let mut text = String::from(
        "timestamp,request_id,api_key,tags,model,input_tokens,cached_input_tokens,output_tokens,status\n",
    );
    let at = |minutes: i64| {
        (start + Duration::minutes(minutes - 720))
            .format("%Y-%m-%dT%H:%M:%SZ")
            .to_string()
    };
    for (i, row) in rows.iter().enumerate() {
        let line = match row {
            Row::Good {
                minutes,
                caller,
                model,
                input,
                cached,
                output,
                failed,
            } => {
                let (key, tags) = match caller {
                    0 => ("a-1", ""),
                    1 => ("a-2", "x"),
                    2 => ("z-1", "b"),
                    _ => ("z-2", ""),
                };
                let model = ["m1", "m2", "unknown-model"][*model as usize];
                let status = if *failed { "error" } else { "success" };
                format!(
                    "{},r{i},{key},{tags},{model},{input},{cached},{output},{status}",
                    at(*minutes)
                )
            }
            Row::BadTokens(minutes) => format!("{},r{i},a-1,,m1,1.5,0,1,success", at(*minutes)),
            Row::BadTime => format!("not a time,r{i},a-1,,m1,1,0,1,success"),
            Row::Truncated => format!("{},r{i}", at(0)),
            Row::Outside(days) => format!("{},r{i},a-1,,m1,1,0,1,success", at(-days * 1440)),
            Row::Blank => ",,,,,,,,".to_string(),
        };
        text.push_str(&line);
        text.push('\n');
    }
    text
}

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 12, 1).unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn every_row_is_attributed_unattributed_or_rejected(rows in prop::collection::vec(arb_row(), 0..120), zone in 0usize..ZONES.len()) {
        let settings = config(ZONES[zone], "2026-03");
        let start = DateTime::parse_from_rfc3339("2026-03-01T00:00:00Z").unwrap().to_utc();
        let text = csv(&rows, start);
        let dataset = load_inputs(&settings, vec![Input::from_bytes("p.csv", text.as_bytes())]).unwrap();
        let a = calculate(&settings, &dataset, None, today());

        prop_assert_eq!(a.conservation.rows_read, rows.len() as u64);
        prop_assert!(a.conservation.holds(), "{}", a.conservation.line());
        for line in &a.conservation_by_source {
            prop_assert!(line.holds());
        }
        prop_assert_eq!(a.conservation.rejected, dataset.rejects.len() as u64);
    }

    #[test]
    fn settled_amounts_sum_to_the_amount_to_settle(rows in prop::collection::vec(arb_row(), 0..80), zone in 0usize..ZONES.len()) {
        let settings = config(ZONES[zone], "2026-10");
        let start = DateTime::parse_from_rfc3339("2026-10-01T00:00:00Z").unwrap().to_utc();
        let text = csv(&rows, start);
        let dataset = load_inputs(&settings, vec![Input::from_bytes("p.csv", text.as_bytes())]).unwrap();
        let a = calculate(&settings, &dataset, None, today());

        prop_assert_eq!(a.amount_to_settle, Decimal::new(10000, 2));
        let by_department: Decimal = a.departments.iter().map(|d| d.settled).sum();
        prop_assert_eq!(by_department, a.amount_to_settle);
        for d in &a.departments {
            let lines: Decimal = a.lines.iter().filter(|l| l.department == d.name).map(|l| l.settled).sum();
            prop_assert_eq!(lines, d.usage_settled, "lines of {} sum to its usage", d.name);
        }
    }

    #[test]
    fn local_days_partition_the_month_in_any_zone(rows in prop::collection::vec(arb_row(), 1..150), zone in 0usize..ZONES.len(), month in prop::sample::select(vec!["2026-03", "2026-04", "2026-10", "2026-11"])) {
        let settings = config(ZONES[zone], month);
        let start = format!("{month}-01T00:00:00Z");
        let start = DateTime::parse_from_rfc3339(&start).unwrap().to_utc();
        let text = csv(&rows, start);
        let dataset = load_inputs(&settings, vec![Input::from_bytes("p.csv", text.as_bytes())]).unwrap();
        let a = calculate(&settings, &dataset, None, today());

        for d in &a.departments {
            let days: Decimal = d.daily.values().sum();
            prop_assert_eq!(days, d.list_cost, "days of {} sum to its month", d.name);
            for day in d.daily.keys() {
                prop_assert!(*day >= settings.month_start && *day <= settings.month_end);
            }
        }
        let calls: u64 = a.departments.iter().map(|d| d.calls + d.failed_calls).sum();
        prop_assert_eq!(calls, a.conservation.attributed + a.conservation.unattributed);
    }
}
