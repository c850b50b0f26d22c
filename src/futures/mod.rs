//! Futures with promise ordering, on the loop's crate-internal API (`rt`):
//! the callback-to-future bridge, timer futures, streams and channels, the
//! `Promise.all` family of combinators, the limiters, and promise chains
//! (`.then`, `.catch`, `.finally`).

pub(crate) mod combinator;
pub(crate) mod promise;
pub(crate) mod stream;
pub(crate) mod sync;
pub(crate) mod then;
pub(crate) mod timer;
