//! Schema fragments that derive cannot express.

use schemars::{Schema, SchemaGenerator, json_schema};

/// An object whose keys and values the apiserver keeps as written: broker configs, whose values
/// mix strings, numbers and booleans, and the rarely used sections we accept without modelling.
pub(crate) fn free_form_object(_: &mut SchemaGenerator) -> Schema {
    json_schema!({
        "type": "object",
        "x-kubernetes-preserve-unknown-fields": true,
    })
}

/// A list of such objects (references into APIs Brokerage does not model).
pub(crate) fn free_form_list(generator: &mut SchemaGenerator) -> Schema {
    json_schema!({
        "type": "array",
        "items": free_form_object(generator),
    })
}

/// A free-form object on the Rust side: values stay as the user wrote them.
pub type FreeFormObject = std::collections::BTreeMap<String, serde_json::Value>;
