//! Postman collections in and out, and a newman-compatible collection runner.
//!
//! - [`model`]: the Postman file formats (collection v2.0/v2.1, environment, globals) as
//!   typed structs that accept unknown keys and keep them to be listed.
//! - [`v1`]: Collection v1 files, read as v2.1 as newman reads them.
//! - [`tree`]: requests in run order with their folders, scripts in execution order.
//! - [`convert`]: a Postman request → the one request pipeline's [`crate::input::request::Draft`].
//! - [`import`]: files → stored collections (folders nest through `parentId`), requests,
//!   environments and globals, with the list of what was not imported.
//! - [`export`]: a stored collection tree → Collection v2.1.
//! - [`load`]: a collection as a load run's scenario (`collectionId`, `vayu run FILE`).
//! - [`run`]: `vayu collection run`, newman's runner on the design-mode machinery.

pub mod convert;
pub mod export;
pub mod import;
pub mod json_comments;
pub mod load;
pub mod model;
pub mod run;
pub mod tree;
pub mod v1;
