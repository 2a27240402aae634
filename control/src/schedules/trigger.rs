//! When a schedule fires: ATM's (APScheduler's) three triggers, checked from their input
//! ([`TriggerInput`], strict) into a [`Trigger`], and the next fire time of one after a
//! given instant. Cron patterns are croner's (with seconds; day of month AND day of week, as
//! APScheduler combines them), time zones chrono-tz's IANA database. Times are Unix
//! milliseconds.

use std::str::FromStr;

use chrono::{DateTime, NaiveDate, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;
use croner::parser::{CronParser, Seconds};
use croner::Cron;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::field::FieldError;
use crate::input::values::Whole;

/// The kinds of trigger.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum TriggerType {
    Cron,
    Interval,
    Date,
}

impl TriggerType {
    pub fn as_str(self) -> &'static str {
        match self {
            TriggerType::Cron => "cron",
            TriggerType::Interval => "interval",
            TriggerType::Date => "date",
        }
    }
}

/// A cron field as written: text (`"*/5"`, `"mon-fri"`) or a number.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum CronValue {
    Text(String),
    Number(u32),
}

impl CronValue {
    fn text(&self) -> String {
        match self {
            CronValue::Text(text) => text.trim().to_owned(),
            CronValue::Number(number) => number.to_string(),
        }
    }
}

/// `trigger` as ATM writes it: `type` and the fields of that type (a field of another type
/// is refused, naming it).
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TriggerInput {
    #[serde(rename = "type")]
    pub kind: TriggerType,
    pub second: Option<CronValue>,
    pub minute: Option<CronValue>,
    pub hour: Option<CronValue>,
    pub day: Option<CronValue>,
    pub month: Option<CronValue>,
    #[serde(alias = "dayOfWeek")]
    pub day_of_week: Option<CronValue>,
    /// IANA zone of a cron or date trigger (default UTC).
    pub timezone: Option<String>,
    #[schema(value_type = Option<u64>)]
    pub weeks: Option<Whole<u64>>,
    #[schema(value_type = Option<u64>)]
    pub days: Option<Whole<u64>>,
    #[schema(value_type = Option<u64>)]
    pub hours: Option<Whole<u64>>,
    #[schema(value_type = Option<u64>)]
    pub minutes: Option<Whole<u64>>,
    #[schema(value_type = Option<u64>)]
    pub seconds: Option<Whole<u64>>,
    /// A date trigger's time: RFC 3339, or a local `YYYY-MM-DDTHH:MM:SS[.f]` (or a date) in
    /// `timezone`.
    #[serde(alias = "runDate")]
    pub run_date: Option<String>,
}

/// A checked trigger, as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum Trigger {
    /// Every field complete (APScheduler's defaults applied); `day_of_week` in APScheduler's
    /// numbering (0 = Monday) as written.
    Cron {
        second: String,
        minute: String,
        hour: String,
        day: String,
        month: String,
        day_of_week: String,
        timezone: String,
    },
    /// Every `period_ms` from `start_ms` (the creation time), first at `start_ms + period`.
    Interval {
        weeks: u64,
        days: u64,
        hours: u64,
        minutes: u64,
        seconds: u64,
        start_ms: u64,
    },
    /// Once, at `run_ms`.
    Date {
        run_date: String,
        timezone: String,
        run_ms: u64,
    },
}

/// Cron fields from most to least significant, with the value APScheduler gives an omitted
/// field below the least significant one written (`None`: `*` wherever it is).
const CRON_FIELDS: [(&str, Option<&str>); 6] = [
    ("month", Some("1")),
    ("day", Some("1")),
    ("day_of_week", None),
    ("hour", Some("0")),
    ("minute", Some("0")),
    ("second", Some("0")),
];

fn refused(field: &str, message: impl Into<String>) -> FieldError {
    FieldError::new(&format!("trigger.{field}"), message)
}

fn zone(name: Option<&str>) -> Result<Tz, FieldError> {
    let name = name.unwrap_or("UTC");
    Tz::from_str(name).map_err(|_| {
        refused(
            "timezone",
            format!(
                "unknown time zone {name:?} (an IANA name such as \"Europe/Paris\" or \"UTC\")"
            ),
        )
    })
}

impl TriggerInput {
    /// Checks the input; `now_ms` anchors an interval and must be before a date trigger.
    pub fn check(self, now_ms: u64) -> Result<Trigger, FieldError> {
        let kind = self.kind;
        let foreign = |field: &str| {
            refused(
                field,
                format!("does not apply to a {} trigger", kind.as_str()),
            )
        };
        let cron_given = [
            ("second", self.second.is_some()),
            ("minute", self.minute.is_some()),
            ("hour", self.hour.is_some()),
            ("day", self.day.is_some()),
            ("month", self.month.is_some()),
            ("day_of_week", self.day_of_week.is_some()),
        ];
        let interval_given = [
            ("weeks", self.weeks.is_some()),
            ("days", self.days.is_some()),
            ("hours", self.hours.is_some()),
            ("minutes", self.minutes.is_some()),
            ("seconds", self.seconds.is_some()),
        ];
        let (allowed_cron, allowed_interval, allowed_date, allowed_zone) = match kind {
            TriggerType::Cron => (true, false, false, true),
            TriggerType::Interval => (false, true, false, false),
            TriggerType::Date => (false, false, true, true),
        };
        for (field, given) in cron_given {
            if given && !allowed_cron {
                return Err(foreign(field));
            }
        }
        for (field, given) in interval_given {
            if given && !allowed_interval {
                return Err(foreign(field));
            }
        }
        if self.run_date.is_some() && !allowed_date {
            return Err(foreign("run_date"));
        }
        if self.timezone.is_some() && !allowed_zone {
            return Err(foreign("timezone"));
        }
        match kind {
            TriggerType::Cron => self.cron(),
            TriggerType::Interval => self.interval(now_ms),
            TriggerType::Date => self.date(now_ms),
        }
    }

    fn cron(self) -> Result<Trigger, FieldError> {
        let timezone = zone(self.timezone.as_deref())?.name().to_owned();
        let written = [
            &self.month,
            &self.day,
            &self.day_of_week,
            &self.hour,
            &self.minute,
            &self.second,
        ];
        let Some(least) = written.iter().rposition(|value| value.is_some()) else {
            return Err(FieldError::new(
                "trigger",
                "a cron trigger needs at least one of second, minute, hour, day, month, day_of_week",
            ));
        };
        let mut values = Vec::with_capacity(CRON_FIELDS.len());
        for (at, ((_, minimum), value)) in CRON_FIELDS.iter().zip(written).enumerate() {
            let text = match value {
                Some(value) => value.text(),
                None if at > least => minimum.unwrap_or("*").to_owned(),
                None => "*".to_owned(),
            };
            values.push(text);
        }
        let [month, day, day_of_week, hour, minute, second] = <[String; 6]>::try_from(values)
            .map_err(|_| FieldError::new("trigger", "cron fields"))?;
        let trigger = Trigger::Cron {
            second,
            minute,
            hour,
            day,
            month,
            day_of_week,
            timezone,
        };
        trigger.cron_pattern()?;
        Ok(trigger)
    }

    fn interval(self, now_ms: u64) -> Result<Trigger, FieldError> {
        let part = |value: Option<Whole<u64>>| value.map_or(0, |Whole(n)| n);
        let trigger = Trigger::Interval {
            weeks: part(self.weeks),
            days: part(self.days),
            hours: part(self.hours),
            minutes: part(self.minutes),
            seconds: part(self.seconds),
            start_ms: now_ms,
        };
        match trigger.period_ms() {
            Some(0) => Err(refused(
                "seconds",
                "an interval needs a period above 0 (weeks, days, hours, minutes, seconds)",
            )),
            Some(_) => Ok(trigger),
            None => Err(refused("weeks", "the interval is too long")),
        }
    }

    fn date(self, now_ms: u64) -> Result<Trigger, FieldError> {
        let tz = zone(self.timezone.as_deref())?;
        let Some(run_date) = self.run_date else {
            return Err(refused("run_date", "a date trigger needs run_date"));
        };
        let at = parse_date(&run_date, tz).ok_or_else(|| {
            refused(
                "run_date",
                format!("{run_date:?} is not a date and time (RFC 3339, or YYYY-MM-DDTHH:MM:SS in timezone)"),
            )
        })?;
        let run_ms = u64::try_from(at.timestamp_millis())
            .map_err(|_| refused("run_date", "is before 1970"))?;
        if run_ms <= now_ms {
            return Err(refused("run_date", format!("{run_date:?} is in the past")));
        }
        Ok(Trigger::Date {
            run_date,
            timezone: tz.name().to_owned(),
            run_ms,
        })
    }
}

/// An RFC 3339 time, or a local time (or a date, at midnight) in `tz`.
fn parse_date(text: &str, tz: Tz) -> Option<DateTime<Utc>> {
    if let Ok(at) = DateTime::parse_from_rfc3339(text) {
        return Some(at.with_timezone(&Utc));
    }
    let local = [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M",
    ]
    .iter()
    .find_map(|format| NaiveDateTime::parse_from_str(text, format).ok())
    .or_else(|| {
        NaiveDate::parse_from_str(text, "%Y-%m-%d")
            .ok()
            .and_then(|date| date.and_hms_opt(0, 0, 0))
    })?;
    // A local time skipped by a DST change has no instant; one repeated takes the first.
    tz.from_local_datetime(&local)
        .earliest()
        .map(|at| at.with_timezone(&Utc))
}

/// APScheduler numbers days of the week from 0 = Monday; cron (croner) from 0 = Sunday,
/// with 7 = Sunday too: every number of the field moves up by one. Names pass through.
fn cron_weekdays(field: &str) -> String {
    let mut out = String::with_capacity(field.len());
    let mut number = String::new();
    let mut after_slash = false;
    let flush = |number: &mut String, out: &mut String, after_slash: bool| {
        if number.is_empty() {
            return;
        }
        match number.parse::<u32>() {
            Ok(day) if !after_slash => out.push_str(&(day + 1).to_string()),
            _ => out.push_str(number),
        }
        number.clear();
    };
    for c in field.chars() {
        if c.is_ascii_digit() {
            number.push(c);
            continue;
        }
        flush(&mut number, &mut out, after_slash);
        match c {
            '/' => after_slash = true,
            ',' => after_slash = false,
            _ => {}
        }
        out.push(c);
    }
    flush(&mut number, &mut out, after_slash);
    out
}

const SECOND_MS: u64 = 1000;

impl Trigger {
    pub fn kind(&self) -> TriggerType {
        match self {
            Trigger::Cron { .. } => TriggerType::Cron,
            Trigger::Interval { .. } => TriggerType::Interval,
            Trigger::Date { .. } => TriggerType::Date,
        }
    }

    /// The croner pattern of a cron trigger (seconds first), and its zone.
    fn cron_pattern(&self) -> Result<(Cron, Tz), FieldError> {
        let Trigger::Cron {
            second,
            minute,
            hour,
            day,
            month,
            day_of_week,
            timezone,
        } = self
        else {
            return Err(FieldError::new("trigger", "not a cron trigger"));
        };
        let tz = zone(Some(timezone))?;
        let pattern = format!(
            "{second} {minute} {hour} {day} {month} {}",
            cron_weekdays(day_of_week)
        );
        let cron = CronParser::builder()
            .seconds(Seconds::Required)
            .dom_and_dow(true)
            .build()
            .parse(&pattern)
            .map_err(|err| {
                FieldError::new(
                    "trigger",
                    format!("the cron fields make {pattern:?}, which is not a cron pattern: {err}"),
                )
            })?;
        Ok((cron, tz))
    }

    /// The period of an interval trigger (`None` if it overflows).
    fn period_ms(&self) -> Option<u64> {
        let Trigger::Interval {
            weeks,
            days,
            hours,
            minutes,
            seconds,
            ..
        } = self
        else {
            return None;
        };
        let total = weeks
            .checked_mul(7)?
            .checked_add(*days)?
            .checked_mul(24)?
            .checked_add(*hours)?
            .checked_mul(60)?
            .checked_add(*minutes)?
            .checked_mul(60)?
            .checked_add(*seconds)?;
        total.checked_mul(SECOND_MS)
    }

    /// The first fire time strictly after `after_ms`; `None` when the trigger never fires
    /// again (a date passed, a cron pattern without another match).
    pub fn next_after(&self, after_ms: u64) -> Option<u64> {
        match self {
            Trigger::Cron { .. } => {
                let (cron, tz) = self.cron_pattern().ok()?;
                // croner keeps the start's fraction of a second: start from the whole second
                // (the next match is still after `after_ms`, matches being whole seconds).
                let whole = i64::try_from(after_ms / SECOND_MS).ok()?;
                let after = tz.timestamp_opt(whole, 0).single()?;
                let next = cron.find_next_occurrence(&after, false).ok()?;
                u64::try_from(next.timestamp_millis()).ok()
            }
            Trigger::Interval { start_ms, .. } => {
                let period = self.period_ms().filter(|period| *period > 0)?;
                if after_ms < *start_ms {
                    return start_ms.checked_add(period);
                }
                let periods = (after_ms - start_ms) / period + 1;
                start_ms.checked_add(periods.checked_mul(period)?)
            }
            Trigger::Date { run_ms, .. } => (*run_ms > after_ms).then_some(*run_ms),
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::input::strict;

    fn trigger(input: serde_json::Value, now_ms: u64) -> Result<Trigger, FieldError> {
        strict::decode::<TriggerInput>(input)?.check(now_ms)
    }

    fn ms(text: &str) -> u64 {
        DateTime::parse_from_rfc3339(text).map_or(0, |at| at.timestamp_millis() as u64)
    }

    #[test]
    fn atm_daily_cron_fires_at_eight_in_its_zone() {
        let daily = json!({"type": "cron", "hour": "8", "minute": "0", "day": "*",
            "month": "*", "day_of_week": "*", "timezone": "UTC"});
        let now = ms("2024-01-28T10:00:00.392Z");
        let cron = trigger(daily, now);
        assert_eq!(
            cron.as_ref().ok().and_then(|t| t.next_after(now)),
            Some(ms("2024-01-29T08:00:00Z")),
            "{cron:?}"
        );
        let paris = json!({"type": "cron", "hour": 8, "timezone": "Europe/Paris"});
        let cron = trigger(paris, now);
        // Winter: Paris is UTC+1; the omitted minute and second default to 0.
        assert_eq!(
            cron.ok().and_then(|t| t.next_after(now)),
            Some(ms("2024-01-29T07:00:00Z"))
        );
    }

    #[test]
    fn every_second_fires_on_whole_seconds() {
        let now = ms("2024-01-28T10:00:00.392Z");
        let each = trigger(json!({"type": "cron", "second": "*"}), now).ok();
        let next = each.as_ref().and_then(|t| t.next_after(now));
        assert_eq!(next, Some(ms("2024-01-28T10:00:01Z")));
        let after = next.and_then(|at| each.as_ref().and_then(|t| t.next_after(at)));
        assert_eq!(after, Some(ms("2024-01-28T10:00:02Z")));
    }

    #[test]
    fn weekdays_count_from_monday_as_in_apscheduler() {
        assert_eq!(cron_weekdays("0-4"), "1-5");
        assert_eq!(cron_weekdays("5,6"), "6,7");
        assert_eq!(cron_weekdays("*/2"), "*/2");
        assert_eq!(cron_weekdays("mon-fri"), "mon-fri");
        // 2024-01-28 is a Sunday: day_of_week 0 (Monday) is the next day.
        let now = ms("2024-01-28T10:00:00Z");
        let monday = trigger(json!({"type": "cron", "day_of_week": "0", "hour": 9}), now);
        assert_eq!(
            monday.ok().and_then(|t| t.next_after(now)),
            Some(ms("2024-01-29T09:00:00Z"))
        );
    }

    #[test]
    fn an_interval_keeps_its_grid_and_coalesces() {
        let now = 1_000_000;
        let every = trigger(json!({"type": "interval", "seconds": 2}), now);
        let every = every.ok();
        let next = |after| every.as_ref().and_then(|t| t.next_after(after));
        assert_eq!(next(now), Some(now + 2000));
        assert_eq!(next(now + 2000), Some(now + 4000));
        // Late by several periods: the next one on the grid, once.
        assert_eq!(next(now + 9_500), Some(now + 10_000));
        let hourly = trigger(json!({"type": "interval", "hours": 1, "minutes": 30}), 0);
        assert_eq!(hourly.ok().and_then(|t| t.next_after(0)), Some(5_400_000));
    }

    #[test]
    fn a_date_fires_once_in_its_zone() {
        let now = ms("2024-01-28T10:00:00Z");
        let date = trigger(
            json!({"type": "date", "run_date": "2024-02-01T14:30:00", "timezone": "America/New_York"}),
            now,
        )
        .ok();
        let at = ms("2024-02-01T19:30:00Z");
        assert_eq!(date.as_ref().and_then(|t| t.next_after(now)), Some(at));
        assert_eq!(date.as_ref().and_then(|t| t.next_after(at)), None);
        let past = trigger(
            json!({"type": "date", "run_date": "2020-01-01T00:00:00Z"}),
            now,
        );
        assert_eq!(
            past.err().map(|e| e.field),
            Some("trigger.run_date".to_owned())
        );
    }

    #[test]
    fn wrong_fields_are_named() {
        let field = |input| trigger(input, 0).err().map(|e| e.field);
        assert_eq!(
            field(json!({"type": "interval", "hour": "1"})),
            Some("trigger.hour".to_owned())
        );
        assert_eq!(
            field(json!({"type": "interval", "seconds": 0})),
            Some("trigger.seconds".to_owned())
        );
        assert_eq!(
            field(json!({"type": "cron", "hour": "8", "timezone": "Mars/Olympus"})),
            Some("trigger.timezone".to_owned())
        );
        assert_eq!(
            field(json!({"type": "cron", "hour": "25"})),
            Some("trigger".to_owned())
        );
        assert_eq!(
            strict::decode::<TriggerInput>(json!({"type": "cron", "hours": 1, "minuet": 2}))
                .err()
                .map(|e| e.field),
            Some("minuet".to_owned())
        );
    }
}
