//! The macros [`join!`](crate::join!) and [`try_join!`](crate::try_join!)
//! for a fixed set of futures of different types, and `__private`, the
//! support their expansions name as `$crate::__private::...`.

// ---------------------------------------------------------------------------
// join! and try_join!

/// Support for the [`join!`](crate::join!) and [`try_join!`](crate::try_join!)
/// macros. Not a public API.
#[doc(hidden)]
pub mod __private {
    use std::future::Future;
    use std::pin::Pin;
    use std::sync::Arc;
    use std::task::{Context, Poll, Waker};

    // From the crate root rather than `super::super`: this inline module's
    // `super` is `macros`, and the import graph (.ci/import-cycles.py) reads
    // paths per file.
    use crate::futures::combinator::group::polled_after_completion;
    use crate::futures::combinator::wakeup::Wakeup;

    /// One input of a macro: the future, then its output.
    pub struct MaybeDone<F: Future> {
        future: Option<Pin<Box<F>>>,
        output: Option<F::Output>,
    }

    impl<F: Future> MaybeDone<F> {
        pub fn new(future: F) -> MaybeDone<F> {
            MaybeDone {
                future: Some(Box::pin(future)),
                output: None,
            }
        }

        pub fn is_done(&self) -> bool {
            self.future.is_none()
        }

        pub fn take(&mut self) -> F::Output {
            self.output
                .take()
                .expect("evloop: join! output taken twice")
        }

        pub fn cancel(&mut self) {
            self.future = None;
        }
    }

    impl<F: Future<Output = Result<T, E>>, T, E> MaybeDone<F> {
        pub fn is_err(&self) -> bool {
            matches!(self.output, Some(Err(_)))
        }

        pub fn take_err(&mut self) -> Option<E> {
            match self.output.take() {
                Some(Err(e)) => Some(e),
                other => {
                    self.output = other;
                    None
                }
            }
        }

        pub fn take_ok(&mut self) -> T {
            match self.output.take() {
                Some(Ok(v)) => v,
                _ => panic!("evloop: try_join! output taken twice"),
            }
        }
    }

    /// The wakers of a macro's fixed set of inputs.
    pub struct Fixed {
        wakeup: Arc<Wakeup>,
        wakers: Vec<Waker>,
        batch: Vec<usize>,
        started: bool,
        first: bool,
        done: bool,
    }

    impl Fixed {
        pub fn new(n: usize) -> Fixed {
            let wakeup = Wakeup::new(n);
            let wakers = (0..n).map(|i| wakeup.child_waker(i)).collect();
            Fixed {
                wakeup,
                wakers,
                batch: Vec::new(),
                started: false,
                first: true,
                done: false,
            }
        }

        /// The inputs to poll now: all, in order, the first time; then the
        /// woken ones in wake order. Hand the list back with `end`.
        pub fn begin(&mut self, cx: &Context<'_>) -> Vec<usize> {
            if self.done {
                polled_after_completion("join!");
            }
            self.wakeup.begin(cx, &mut self.batch);
            self.first = !self.started;
            if self.first {
                self.started = true;
                self.batch.clear();
                self.batch.extend(0..self.wakers.len());
            }
            std::mem::take(&mut self.batch)
        }

        /// Whether this is the first poll (every input is polled, and
        /// nothing is decided until all were).
        pub fn is_first(&self) -> bool {
            self.first
        }

        /// Hands back the list from `begin` once the due inputs are polled.
        pub fn end(&mut self, mut batch: Vec<usize>) {
            batch.clear();
            self.batch = batch;
        }

        /// Polls input `i` if it is still running.
        pub fn poll_child<F: Future>(&mut self, i: usize, child: &mut MaybeDone<F>) {
            self.wakeup.unlist(i);
            let Some(future) = child.future.as_mut() else {
                return;
            };
            if let Poll::Ready(out) = future
                .as_mut()
                .poll(&mut Context::from_waker(&self.wakers[i]))
            {
                child.future = None;
                child.output = Some(out);
            }
        }

        /// Ends the poll as pending unless `all_done`; returns whether it
        /// is pending.
        pub fn pending(&mut self, cx: &Context<'_>, all_done: bool) -> bool {
            if all_done {
                return false;
            }
            self.wakeup.end(cx, true);
            true
        }

        /// Ends the last poll: the macro completes.
        pub fn finish(&mut self) {
            self.done = true;
            self.wakeup.clear();
        }
    }

    impl Drop for Fixed {
        fn drop(&mut self) {
            self.wakeup.clear();
        }
    }
}

/// Internal to [`join!`](crate::join!) and [`try_join!`](crate::try_join!).
#[doc(hidden)]
#[macro_export]
macro_rules! __evloop_count {
    () => { 0usize };
    ($head:tt $($tail:tt)*) => { 1usize + $crate::__evloop_count!($($tail)*) };
}

/// Internal to [`join!`](crate::join!) and [`try_join!`](crate::try_join!):
/// pairs each future with a list of `_` as long as its index (to pick it out
/// of a tuple with a pattern), then expands.
#[doc(hidden)]
#[macro_export]
macro_rules! __evloop_join {
    (@$kind:ident { ( $($count:tt)* ) $( ( $($skip:tt)* ) $f:expr, )* } $head:expr, $($tail:expr,)*) => {
        $crate::__evloop_join!(
            @$kind { ( $($count)* _ ) $( ( $($skip)* ) $f, )* ( $($count)* ) $head, } $($tail,)*
        )
    };
    (@join { ( $($count:tt)* ) $( ( $($skip:tt)* ) $f:expr, )* }) => {{
        let mut __futures = ( $( $crate::__private::MaybeDone::new($f), )* );
        let mut __fixed = $crate::__private::Fixed::new($crate::__evloop_count!($($count)*));
        ::core::future::poll_fn(move |__cx| {
            let __due = __fixed.begin(__cx);
            for &__i in __due.iter() {
                $(
                    if __i == $crate::__evloop_count!($($skip)*) {
                        let ( $($skip,)* __child, .. ) = &mut __futures;
                        __fixed.poll_child(__i, __child);
                    }
                )*
            }
            __fixed.end(__due);
            let mut __all = true;
            $({
                let ( $($skip,)* __child, .. ) = &mut __futures;
                __all &= __child.is_done();
            })*
            if __fixed.pending(__cx, __all) {
                return ::core::task::Poll::Pending;
            }
            __fixed.finish();
            ::core::task::Poll::Ready(( $({
                let ( $($skip,)* __child, .. ) = &mut __futures;
                __child.take()
            },)* ))
        })
        .await
    }};
    (@try_join { ( $($count:tt)* ) $( ( $($skip:tt)* ) $f:expr, )* }) => {{
        let mut __futures = ( $( $crate::__private::MaybeDone::new($f), )* );
        let mut __fixed = $crate::__private::Fixed::new($crate::__evloop_count!($($count)*));
        ::core::future::poll_fn(move |__cx| {
            let __due = __fixed.begin(__cx);
            let __first = __fixed.is_first();
            'poll: for &__i in __due.iter() {
                $(
                    if __i == $crate::__evloop_count!($($skip)*) {
                        let ( $($skip,)* __child, .. ) = &mut __futures;
                        __fixed.poll_child(__i, __child);
                        if !__first && __child.is_err() {
                            break 'poll;
                        }
                    }
                )*
            }
            __fixed.end(__due);
            // The first error: the only one after the first poll, the
            // earliest in input order at the first poll.
            let mut __error = ::core::option::Option::None;
            $({
                let ( $($skip,)* __child, .. ) = &mut __futures;
                if __error.is_none() {
                    __error = __child.take_err();
                }
            })*
            if let ::core::option::Option::Some(__e) = __error {
                // Fail fast: the others are cancelled now.
                $({
                    let ( $($skip,)* __child, .. ) = &mut __futures;
                    __child.cancel();
                })*
                __fixed.finish();
                return ::core::task::Poll::Ready(::core::result::Result::Err(__e));
            }
            let mut __all = true;
            $({
                let ( $($skip,)* __child, .. ) = &mut __futures;
                __all &= __child.is_done();
            })*
            if __fixed.pending(__cx, __all) {
                return ::core::task::Poll::Pending;
            }
            __fixed.finish();
            ::core::task::Poll::Ready(::core::result::Result::Ok(( $({
                let ( $($skip,)* __child, .. ) = &mut __futures;
                __child.take_ok()
            },)* )))
        })
        .await
    }};
}

/// Awaits a fixed set of futures of **different types** concurrently and
/// returns their outputs as a tuple, in argument order:
/// `const [a, b, c] = await Promise.all([a, b, c])`. Must be used inside an
/// `async` context (it awaits).
///
/// # Ordering
/// As [`join_all`](crate::join_all) (see "How the combinators run" there):
/// each future is polled once at the first poll, in argument order; after
/// that only woken futures are polled again, in wake order; it completes
/// when the last one does.
///
/// # JavaScript
/// ```javascript
/// const [n, s, unit] = await Promise.all([count(), name(), sleep(10)]);
/// ```
///
/// # Rust
/// ```
/// evloop::run_async(async {
///     let (n, s, ()) = evloop::join!(
///         async { 42 },
///         async { "text" },
///         evloop::sleep(10),
///     );
///     assert_eq!((n, s), (42, "text"));
/// });
/// ```
#[macro_export]
macro_rules! join {
    ($($f:expr),+ $(,)?) => {
        $crate::__evloop_join!(@join { () } $($f,)+)
    };
}

/// Awaits a fixed set of futures of **different types** returning
/// `Result<_, E>` (the same `E`) and returns `Ok` of a tuple of their values,
/// in argument order, or fails fast: `Promise.all` with rejections. Must be
/// used inside an `async` context (it awaits).
///
/// # Errors
/// The first `Err`, the moment it happens (among futures that fail at the
/// first poll, the earliest argument's). The other futures are then dropped
/// (cancelled), unlike JavaScript's promises, which run on; pass spawned
/// [`Task`](crate::Task)s to let them run on.
///
/// # Ordering
/// As [`join!`](crate::join!).
///
/// # JavaScript
/// ```javascript
/// try {
///   const [user, posts] = await Promise.all([getUser(id), getPosts(id)]);
/// } catch (err) { /* the first rejection */ }
/// ```
///
/// # Rust
/// ```
/// // Virtual time: instant, and the times below are exact.
/// let lp = evloop::EventLoop::builder().virtual_time(true).build().unwrap();
/// lp.run_async(async {
///     let ok: Result<(u32, &str), String> =
///         evloop::try_join!(async { Ok(7) }, async { Ok("posts") });
///     assert_eq!(ok, Ok((7, "posts")));
///
///     let start = evloop::now();
///     let failed: Result<(u32, ()), String> = evloop::try_join!(
///         async {
///             evloop::sleep(1000).await;
///             Ok(1)
///         },
///         async {
///             evloop::sleep(10).await;
///             Err("no posts".to_string())
///         },
///     );
///     assert_eq!(failed, Err("no posts".to_string()));
///     assert_eq!(evloop::now() - start, 10); // the 1000 ms sleep was dropped
/// });
/// ```
#[macro_export]
macro_rules! try_join {
    ($($f:expr),+ $(,)?) => {
        $crate::__evloop_join!(@try_join { () } $($f,)+)
    };
}
