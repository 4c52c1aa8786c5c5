//! The resource types, one module each, all re-exported from [`crate::fhir`].

mod condition;
mod encounter;
mod episode_of_care;
mod immunization;
mod medication;
mod observation;
mod patient;
mod procedure;

pub use condition::*;
pub use encounter::*;
pub use episode_of_care::*;
pub use immunization::*;
pub use medication::*;
pub use observation::*;
pub use patient::*;
pub use procedure::*;
