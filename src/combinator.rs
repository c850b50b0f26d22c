//! Promise combinators (`Promise.all`, `allSettled`, `race`, `any`).
