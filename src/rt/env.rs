//! The `EVLOOP_*` environment variables, read one way: unset, empty or only
//! whitespace is "not set"; otherwise the value, trimmed, must be valid
//! UTF-8 and one its reader accepts, or `build()` fails with an
//! `InvalidInput` error naming the variable and the value. A typo must
//! never silently change how the loop runs (`EVLOOP_VIRTUAL_TIME=false` once
//! turned virtual time on, because only presence was tested).

use std::io;

/// Reads `name` and parses its trimmed value with `parse`: `Ok(None)` if it
/// is unset or blank; `InvalidInput` `NAME="value": {expected}` if the value
/// is not UTF-8 or `parse` refuses it.
pub(crate) fn parse<T>(
    name: &str,
    expected: &str,
    parse: impl FnOnce(&str) -> Option<T>,
) -> io::Result<Option<T>> {
    let Some(value) = std::env::var_os(name) else {
        return Ok(None);
    };
    let text = value.to_str().map(str::trim);
    if text.is_some_and(str::is_empty) {
        return Ok(None);
    }
    match text.and_then(parse) {
        Some(parsed) => Ok(Some(parsed)),
        None => Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{name}={value:?}: {expected}"),
        )),
    }
}

/// An on/off switch (`EVLOOP_VIRTUAL_TIME`, `EVLOOP_TRACE`, `EVLOOP_STEP`):
/// `1`, `true`, `on`, `yes` are on and `0`, `false`, `off`, `no` are off, in
/// any case; unset or blank is off.
///
/// # Errors
/// `InvalidInput` naming the variable and the value for anything else.
pub(crate) fn switch(name: &str) -> io::Result<bool> {
    let on = parse(
        name,
        "a switch is 1, true, on or yes to turn it on, 0, false, off or no to turn it off",
        |v| match v.to_ascii_lowercase().as_str() {
            "1" | "true" | "on" | "yes" => Some(true),
            "0" | "false" | "off" | "no" => Some(false),
            _ => None,
        },
    )?;
    Ok(on.unwrap_or(false))
}

/// Whether `EVLOOP_TRACE` asks for the phase trace
/// ([`Builder::trace`](crate::Builder::trace)), read as `build()` reads it:
/// for a program that sets up its logger before any loop exists (the
/// examples turn the `evloop::trace` log target on with it). Unset or blank
/// is `false`.
///
/// ```
/// // First thing in main, before any loop exists. A bad value is left for
/// // the loop to report: its `build()` fails naming the variable.
/// let trace = evloop::trace_from_env().unwrap_or(false);
/// if trace {
///     // e.g. turn the `evloop::trace` log target on at trace level
/// }
/// ```
///
/// # Errors
/// `InvalidInput` naming the variable and its value when it is not one of
/// `1`, `true`, `on`, `yes`, `0`, `false`, `off`, `no` (any case): the error
/// `build()` returns for it.
pub fn trace_from_env() -> io::Result<bool> {
    switch("EVLOOP_TRACE")
}
