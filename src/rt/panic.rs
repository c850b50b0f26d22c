//! What a panic says: the one place that reads a panic payload's message.

use std::any::Any;

/// The message of a panic payload when it is a string, as for
/// `panic!("literal")` (`&str`) or `panic!("{x}")` (`String`).
pub(crate) fn panic_message(payload: &(dyn Any + Send)) -> Option<&str> {
    payload
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
}
