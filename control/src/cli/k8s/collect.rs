//! `vayu k8s collect [FILE|-] --out-dir DIR`: the results the pods of `vayu k8s render`'s
//! Job printed between markers (gzipped and in base64, or plain JSON), read back from `kubectl logs` output (one pod's, or every
//! pod's concatenated, with or without `--prefix`'s `[pod/NAME/CONTAINER] `), written to
//! `DIR/part-I.json` for `vayu merge`. All or nothing: a repeated or unfinished result, a
//! result that is not an instance's JSON, or a missing instance is refused (exit 2) naming
//! the instance, and no file is written.

use std::collections::{BTreeMap, HashMap};
use std::io::Read;
use std::path::PathBuf;
use std::process::ExitCode;

use base64::Engine;
use clap::Args;
use serde_json::Value;

use super::write_stdout;
use crate::cli::{EXIT_FAILURE, EXIT_USAGE};

/// What comes before and after the instance number in a marker line.
const MARKER_HEAD: &str = "----- VAYU RESULT instance=";
const BEGIN_TAIL: &str = " BEGIN -----";
const BEGIN_ENCODED_TAIL: &str = " BEGIN gzip+base64 -----";
const END_TAIL: &str = " END -----";

#[derive(Debug, Args)]
pub struct CollectArgs {
    /// The `kubectl logs` output (`kubectl logs -l job-name=NAME --tail=-1 --prefix`); `-`
    /// or nothing for stdin.
    #[arg(value_name = "FILE|-", default_value = "-")]
    pub input: PathBuf,

    /// Where to write `part-I.json`, one per instance (created if missing).
    #[arg(long = "out-dir", value_name = "DIR")]
    pub out_dir: PathBuf,
}

pub fn execute(args: &CollectArgs) -> ExitCode {
    let mut bytes = Vec::new();
    let read = if args.input.as_os_str() == "-" {
        std::io::stdin().read_to_end(&mut bytes).map(drop)
    } else {
        std::fs::read(&args.input).map(|content| bytes = content)
    };
    if let Err(err) = read {
        eprintln!("error: cannot read {}: {err}", args.input.display());
        return ExitCode::from(EXIT_USAGE);
    }
    let results = match collect(&String::from_utf8_lossy(&bytes)) {
        Ok(results) => results,
        Err(message) => {
            eprintln!("error: {message}");
            return ExitCode::from(EXIT_USAGE);
        }
    };
    if let Err(err) = std::fs::create_dir_all(&args.out_dir) {
        eprintln!("error: cannot create {}: {err}", args.out_dir.display());
        return ExitCode::from(EXIT_FAILURE);
    }
    let mut written = String::new();
    for (instance, text) in &results {
        let path = args.out_dir.join(format!("part-{instance}.json"));
        if let Err(err) = std::fs::write(&path, text) {
            eprintln!("error: cannot write {}: {err}", path.display());
            return ExitCode::from(EXIT_FAILURE);
        }
        written.push_str(&format!("{}\n", path.display()));
    }
    match write_stdout(&written) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: cannot print the files written: {err}");
            ExitCode::from(EXIT_FAILURE)
        }
    }
}

/// The largest result accepted, decompressed.
const MAX_RESULT_BYTES: u64 = 1 << 30;

/// A result whose BEGIN marker was read and whose END was not yet.
struct Open<'a> {
    instance: u32,
    /// Gzipped and in base64 (else plain JSON).
    encoded: bool,
    lines: Vec<&'a str>,
}

/// Every instance's result file in `logs`, by instance, checked: JSON of that instance,
/// each instance once, all of them there.
pub fn collect(logs: &str) -> Result<BTreeMap<u32, String>, String> {
    // Per log stream (pod), so that the lines of pods followed at once may interleave.
    let mut open: HashMap<&str, Open> = HashMap::new();
    let mut found: BTreeMap<u32, (String, &str)> = BTreeMap::new();
    for (number, line) in logs.lines().enumerate() {
        let (source, line) = split_prefix(line.strip_suffix('\r').unwrap_or(line));
        let Some(marker) = line.trim().strip_prefix(MARKER_HEAD) else {
            if let Some(result) = open.get_mut(source) {
                result.lines.push(line);
            }
            continue;
        };
        let at = || format!("line {}", number + 1);
        let begin = marker
            .strip_suffix(BEGIN_ENCODED_TAIL)
            .map(|instance| (instance, true))
            .or_else(|| marker.strip_suffix(BEGIN_TAIL).map(|i| (i, false)));
        if let Some((instance, encoded)) = begin {
            let instance = parse_instance(instance).ok_or_else(|| bad_marker(line, &at()))?;
            if let Some(unfinished) = open.get(source) {
                return Err(format!(
                    "instance {}: no END marker before the result of instance {instance} ({})",
                    unfinished.instance,
                    at()
                ));
            }
            if found.contains_key(&instance) || open.values().any(|o| o.instance == instance) {
                return Err(format!(
                    "instance {instance}: its result appears twice in the logs ({}): collect the logs of one run of the Job",
                    at()
                ));
            }
            open.insert(
                source,
                Open {
                    instance,
                    encoded,
                    lines: Vec::new(),
                },
            );
        } else if let Some(instance) = marker.strip_suffix(END_TAIL) {
            let instance = parse_instance(instance).ok_or_else(|| bad_marker(line, &at()))?;
            match open.remove(source) {
                Some(result) if result.instance == instance => {
                    let text = if result.encoded {
                        decode(&result.lines).map_err(|err| {
                            format!(
                                "instance {instance}: the result between the markers is {err} ({})",
                                at()
                            )
                        })?
                    } else {
                        result.lines.join("\n")
                    };
                    found.insert(instance, (text, source));
                }
                Some(result) => {
                    return Err(format!(
                        "instance {}: the END marker of instance {instance} ends its result ({})",
                        result.instance,
                        at()
                    ))
                }
                None => {
                    return Err(format!(
                        "instance {instance}: an END marker without its BEGIN ({})",
                        at()
                    ))
                }
            }
        } else {
            return Err(bad_marker(line, &at()));
        }
    }
    if let Some(unfinished) = open.values().min_by_key(|o| o.instance) {
        return Err(format!(
            "instance {}: no END marker: its log is cut short (pod still running or killed, or the log rotated)",
            unfinished.instance
        ));
    }
    check(found)
}

/// Each result is JSON of its instance; all the test's instances are there.
fn check(found: BTreeMap<u32, (String, &str)>) -> Result<BTreeMap<u32, String>, String> {
    let mut instances = None;
    for (instance, (text, source)) in &found {
        let shown = if source.is_empty() {
            format!("instance {instance}")
        } else {
            format!("instance {instance} ({source})")
        };
        let doc: Value = serde_json::from_str(text)
            .map_err(|err| format!("{shown}: the result between the markers is not JSON: {err}"))?;
        let segment = &doc["metadata"]["segment"];
        let (Some(own), Some(of)) = (segment["instance"].as_u64(), segment["instances"].as_u64())
        else {
            return Err(format!(
                "{shown}: the result is not an instance's (no metadata.segment): was it written by `vayu run … --instances N --out FILE.json`?"
            ));
        };
        if own != u64::from(*instance) {
            return Err(format!(
                "{shown}: the result between its markers is instance {own}'s"
            ));
        }
        match instances {
            Some(n) if n != of => {
                return Err(format!(
                "{shown}: a result of a test split {of} ways among results of one split {n} ways"
            ))
            }
            _ => instances = Some(of),
        }
    }
    let Some(instances) = instances else {
        return Err(
            "no VAYU RESULT in the logs: were they read with `--tail=-1` (kubectl shows the last 10 lines of each pod with -l), after the pods ended?"
                .to_owned(),
        );
    };
    let missing: Vec<u64> = (0..instances)
        .filter(|i| u32::try_from(*i).map_or(true, |i| !found.contains_key(&i)))
        .collect();
    if !missing.is_empty() {
        return Err(format!(
            "instances {missing:?} of {instances} have no result in the logs"
        ));
    }
    Ok(found
        .into_iter()
        .map(|(instance, (text, _))| (instance, text))
        .collect())
}

/// The text of a gzipped file in base64 (in lines of any length).
fn decode(lines: &[&str]) -> Result<String, String> {
    let encoded: String = lines.iter().map(|line| line.trim()).collect();
    let gzipped = base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .map_err(|err| format!("not base64: {err}"))?;
    let mut text = String::new();
    flate2::read::GzDecoder::new(gzipped.as_slice())
        .take(MAX_RESULT_BYTES + 1)
        .read_to_string(&mut text)
        .map_err(|err| format!("not gzipped text: {err}"))?;
    if text.len() as u64 > MAX_RESULT_BYTES {
        return Err(format!("more than {MAX_RESULT_BYTES} bytes decompressed"));
    }
    Ok(text)
}

/// `kubectl logs --prefix`'s `[pod/NAME/CONTAINER] ` and the line after it; no prefix: "".
fn split_prefix(line: &str) -> (&str, &str) {
    line.strip_prefix("[pod/")
        .and_then(|rest| rest.split_once("] "))
        .map_or(("", line), |(pod, rest)| {
            (&line[1.."[pod/".len() + pod.len()], rest)
        })
}

fn parse_instance(raw: &str) -> Option<u32> {
    raw.bytes()
        .all(|b| b.is_ascii_digit())
        .then(|| raw.parse().ok())
        .flatten()
}

fn bad_marker(line: &str, at: &str) -> String {
    format!("a malformed VAYU RESULT marker ({at}): {}", line.trim())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn result(instance: u32) -> String {
        format!("{{\n  \"metadata\": {{\"segment\": {{\"instance\": {instance}, \"instances\": 2}}}}\n}}")
    }

    fn wrapped(prefix: &str, instance: u32) -> String {
        let mut lines = vec![format!("----- VAYU RESULT instance={instance} BEGIN -----")];
        lines.extend(result(instance).lines().map(str::to_owned));
        lines.push(String::new());
        lines.push(format!("----- VAYU RESULT instance={instance} END -----"));
        lines
            .iter()
            .map(|line| format!("{prefix}{line}\n"))
            .collect()
    }

    #[test]
    fn finds_results_with_and_without_prefixes_even_interleaved() {
        let plain = format!("summary\n{}{}", wrapped("", 1), wrapped("", 0));
        let found = collect(&plain).unwrap();
        assert_eq!(found.keys().copied().collect::<Vec<_>>(), vec![0, 1]);
        let parsed: Value = serde_json::from_str(&found[&1]).unwrap();
        assert_eq!(parsed["metadata"]["segment"]["instance"], 1);

        let a = wrapped("[pod/job-0-abc/vayu] ", 0);
        let b = wrapped("[pod/job-1-def/vayu] ", 1);
        let interleaved: String = a
            .lines()
            .zip(b.lines())
            .flat_map(|(x, y)| [x, "\n", y, "\r\n"])
            .collect();
        let found = collect(&interleaved).unwrap();
        assert_eq!(found.len(), 2);
    }

    #[test]
    fn refuses_duplicates_unfinished_foreign_and_missing_results() {
        let twice = format!(
            "{}{}",
            wrapped("[pod/a/vayu] ", 0),
            wrapped("[pod/b/vayu] ", 0)
        );
        let err = collect(&twice).err().unwrap_or_default();
        assert!(
            err.starts_with("instance 0: its result appears twice"),
            "{err}"
        );

        let cut = wrapped("", 1);
        let cut = cut
            .trim_end()
            .rsplit_once('\n')
            .map_or("", |(head, _)| head);
        let err = collect(&format!("{}{cut}", wrapped("", 0)))
            .err()
            .unwrap_or_default();
        assert!(err.starts_with("instance 1: no END marker"), "{err}");

        let swapped = wrapped("", 0).replace("\"instance\": 0", "\"instance\": 1");
        let err = collect(&format!("{swapped}{}", wrapped("", 1)))
            .err()
            .unwrap_or_default();
        assert_eq!(
            err,
            "instance 0: the result between its markers is instance 1's"
        );

        let err = collect(&wrapped("", 1)).err().unwrap_or_default();
        assert_eq!(err, "instances [0] of 2 have no result in the logs");

        let err = collect("nothing here\n").err().unwrap_or_default();
        assert!(err.starts_with("no VAYU RESULT in the logs"), "{err}");

        let err = collect("----- VAYU RESULT instance=x BEGIN -----\n")
            .err()
            .unwrap_or_default();
        assert!(
            err.starts_with("a malformed VAYU RESULT marker (line 1)"),
            "{err}"
        );
    }

    #[test]
    fn reads_gzipped_base64_results() {
        use std::io::Write;
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all(result(0).as_bytes()).unwrap();
        let gzipped = gz.finish().unwrap();
        let encoded = base64::engine::general_purpose::STANDARD.encode(gzipped);
        let (head, tail) = encoded.split_at(encoded.len() / 2);
        let logs = format!(
            "[pod/a/vayu] ----- VAYU RESULT instance=0 BEGIN gzip+base64 -----\n\
             [pod/a/vayu] {head}\n[pod/a/vayu] {tail}\n\
             [pod/a/vayu] ----- VAYU RESULT instance=0 END -----\n{}",
            wrapped("[pod/b/vayu] ", 1)
        );
        let found = collect(&logs).unwrap();
        assert_eq!(found[&0], result(0));

        let broken = logs.replace(head, "!!");
        let err = collect(&broken).err().unwrap_or_default();
        assert!(
            err.starts_with("instance 0: the result between the markers is not base64"),
            "{err}"
        );
    }

    #[test]
    fn the_prefix_names_the_pod() {
        assert_eq!(
            split_prefix("[pod/job-0-abc/vayu] {"),
            ("pod/job-0-abc/vayu", "{")
        );
        assert_eq!(split_prefix("  [1, 2]"), ("", "  [1, 2]"));
    }
}
