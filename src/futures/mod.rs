//! Futures with promise ordering, on the loop's crate-internal API (`rt`):
//! the callback-to-future bridge, timer futures, streams and channels, the
//! `Promise.all` family of combinators, and the limiters.

pub(crate) mod combinator;
pub(crate) mod promise;
pub(crate) mod stream;
pub(crate) mod sync;
pub(crate) mod timer;
