//! Rotation of stored values: what a rotation covers ([`select`]), the
//! per-value decision and the concurrent run ([`run`]), then the retirement
//! of old keys and the all-or-nothing write plan ([`keys`]). Nothing here
//! writes a file: the caller commits the plan.

mod file_keys;
pub mod keys;
mod run;
pub mod select;

pub use self::{
    keys::{Retirement, commit, plan_retirement, write_plan},
    run::{Failure, Job, Method, Options, Outcome, rotate_value, run},
    select::{Request, Rotation, prepare},
};
