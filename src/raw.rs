//! Option values as they come from JavaScript, read into plain Rust so that everything after
//! (checking, defaults, URL parsing) is pure Rust, unit-tested and fuzzed without Node.

use std::collections::BTreeMap;

use napi::bindgen_prelude::{BufferSlice, FromNapiValue, JsObjectValue, Object};
use napi::{JsValue, Unknown, ValueType};

/// One option value.
#[derive(Debug, Clone, PartialEq)]
pub enum Raw {
    Str(String),
    Num(f64),
    Bool(bool),
    /// A Buffer or Uint8Array (PEM certificates).
    Bytes(Vec<u8>),
    List(Vec<Raw>),
    Obj(BTreeMap<String, Raw>),
    /// Any other type, by its `typeof` name.
    Other(&'static str),
}

/// Nested option objects are shallow (`sentinel.tls.ca`); deeper values are not read.
const MAX_DEPTH: u32 = 4;

impl Raw {
    /// How the value reads in an error message.
    pub fn describe(&self) -> String {
        match self {
            Raw::Str(s) => format!("{s:?}"),
            Raw::Num(n) => format!("{n}"),
            Raw::Bool(b) => format!("{b}"),
            Raw::Bytes(b) => format!("a buffer of {} bytes", b.len()),
            Raw::List(items) => format!("an array of {} items", items.len()),
            Raw::Obj(_) => "an object".to_string(),
            Raw::Other(t) => format!("a value of type {t}"),
        }
    }

    /// The value at `key` of an object, if this is one and it is set.
    pub fn get(&self, key: &str) -> Option<&Raw> {
        match self {
            Raw::Obj(map) => map.get(key),
            _ => None,
        }
    }

    /// Reads a JavaScript value; `undefined` and `null` are `None`.
    pub fn from_js(value: Unknown) -> napi::Result<Option<Raw>> {
        read(value, 0)
    }
}

fn read(value: Unknown, depth: u32) -> napi::Result<Option<Raw>> {
    Ok(Some(match value.get_type()? {
        ValueType::Undefined | ValueType::Null => return Ok(None),
        ValueType::String => Raw::Str(value.coerce_to_string()?.into_utf8()?.into_owned()?),
        ValueType::Number => Raw::Num(value.coerce_to_number()?.get_double()?),
        ValueType::Boolean => Raw::Bool(value.coerce_to_bool()?),
        ValueType::Object if value.is_buffer()? || value.is_typedarray()? => {
            let bytes =
                unsafe { BufferSlice::from_napi_value(value.value().env, value.value().value)? };
            Raw::Bytes(bytes.to_vec())
        }
        ValueType::Object if depth >= MAX_DEPTH => Raw::Other("object"),
        ValueType::Object if value.is_array()? => {
            let array = value.coerce_to_object()?;
            let len: u32 = array.get_named_property("length")?;
            let mut items = Vec::with_capacity(len.min(1024) as usize);
            for i in 0..len.min(1024) {
                let item: Unknown = array.get_named_property(&i.to_string())?;
                items.push(read(item, depth + 1)?.unwrap_or(Raw::Other("undefined")));
            }
            Raw::List(items)
        }
        ValueType::Object => {
            let object = value.coerce_to_object()?;
            let mut map = BTreeMap::new();
            for key in Object::keys(&object)? {
                let item: Unknown = object.get_named_property(&key)?;
                if let Some(raw) = read(item, depth + 1)? {
                    map.insert(key, raw);
                }
            }
            Raw::Obj(map)
        }
        ValueType::Function => Raw::Other("function"),
        ValueType::BigInt => Raw::Other("bigint"),
        ValueType::Symbol => Raw::Other("symbol"),
        _ => Raw::Other("unknown"),
    }))
}
