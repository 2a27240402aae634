//! Input as users write it, shared by load runs, design requests and plan files: strict
//! decoding into typed structs ([`strict`]), the value types those structs are made of
//! ([`values`]), the one request pipeline ([`request`]) and variable scopes
//! ([`variables`]). Errors name the field at fault ([`crate::field::FieldError`]).

pub mod request;
pub mod saved;
pub mod strict;
pub mod values;
pub mod variables;
