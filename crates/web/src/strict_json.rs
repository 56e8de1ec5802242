//! JSON request bodies read the way the OpenAPI document describes them.
//!
//! serde's derive reads a struct from a JSON object, but also from a JSON
//! array of its fields in order: `{"notification_prefs": [false, false,
//! false]}` would set all three preferences, and `{"stages": [[{...},
//! "any"]]}` would define a workflow stage. No client means that and the
//! document (`type: object`) does not allow it, so [`from_slice`] reads with
//! a deserializer that refuses an array wherever a struct is expected, at
//! any depth. Everything else (sequences, maps, enums, options) reads as
//! before, and errors keep their field paths.

use serde::de::{
    self, DeserializeOwned, DeserializeSeed, Deserializer, EnumAccess, MapAccess, SeqAccess, VariantAccess, Visitor,
};
use std::fmt;

/// Why a body could not be read.
#[derive(Debug)]
pub enum ReadError {
    /// Well-formed JSON of the wrong shape: `path: message` as
    /// serde_path_to_error puts it (no path for the top level).
    Data(String),
    /// Not JSON (or JSON followed by more).
    Syntax,
}

/// `serde_json::from_slice` with structs read only from objects.
pub fn from_slice<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ReadError> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(Strict(&mut de))
        .map_err(|e| if e.inner().is_data() { ReadError::Data(e.to_string()) } else { ReadError::Syntax })?;
    de.end().map_err(|_| ReadError::Syntax)?;
    Ok(value)
}

/// A deserializer whose structs (and struct variants) refuse sequences.
struct Strict<D>(D);

/// Hands every nested value to [`Strict`] too.
struct Seed<S>(S);

/// Forwards every value to the inner visitor, wrapping what it recurses into.
struct Wrap<V>(V);

/// A struct's visitor: everything but a sequence.
struct NoSeq<V>(V);

struct Seq<A>(A);
struct Map<A>(A);
struct Enum<A>(A);
struct Variant<A>(A);

macro_rules! forward_deserialize {
    ($($method:ident($($arg:ident: $ty:ty),*);)*) => {$(
        fn $method<V: Visitor<'de>>(self, $($arg: $ty,)* visitor: V) -> Result<V::Value, Self::Error> {
            self.0.$method($($arg,)* Wrap(visitor))
        }
    )*};
}

impl<'de, D: Deserializer<'de>> Deserializer<'de> for Strict<D> {
    type Error = D::Error;

    forward_deserialize! {
        deserialize_any();
        deserialize_bool();
        deserialize_i8();
        deserialize_i16();
        deserialize_i32();
        deserialize_i64();
        deserialize_i128();
        deserialize_u8();
        deserialize_u16();
        deserialize_u32();
        deserialize_u64();
        deserialize_u128();
        deserialize_f32();
        deserialize_f64();
        deserialize_char();
        deserialize_str();
        deserialize_string();
        deserialize_bytes();
        deserialize_byte_buf();
        deserialize_option();
        deserialize_unit();
        deserialize_unit_struct(name: &'static str);
        deserialize_newtype_struct(name: &'static str);
        deserialize_seq();
        deserialize_tuple(len: usize);
        deserialize_tuple_struct(name: &'static str, len: usize);
        deserialize_map();
        deserialize_enum(name: &'static str, variants: &'static [&'static str]);
        deserialize_identifier();
        deserialize_ignored_any();
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        self.0.deserialize_struct(name, fields, NoSeq(Wrap(visitor)))
    }

    fn is_human_readable(&self) -> bool {
        self.0.is_human_readable()
    }
}

impl<'de, S: DeserializeSeed<'de>> DeserializeSeed<'de> for Seed<S> {
    type Value = S::Value;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        self.0.deserialize(Strict(d))
    }
}

macro_rules! forward_visit {
    ($($method:ident($ty:ty);)*) => {$(
        fn $method<E: de::Error>(self, v: $ty) -> Result<Self::Value, E> {
            self.0.$method(v)
        }
    )*};
}

impl<'de, V: Visitor<'de>> Visitor<'de> for Wrap<V> {
    type Value = V::Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.expecting(f)
    }

    forward_visit! {
        visit_bool(bool);
        visit_i8(i8);
        visit_i16(i16);
        visit_i32(i32);
        visit_i64(i64);
        visit_i128(i128);
        visit_u8(u8);
        visit_u16(u16);
        visit_u32(u32);
        visit_u64(u64);
        visit_u128(u128);
        visit_f32(f32);
        visit_f64(f64);
        visit_char(char);
        visit_str(&str);
        visit_borrowed_str(&'de str);
        visit_string(String);
        visit_bytes(&[u8]);
        visit_borrowed_bytes(&'de [u8]);
        visit_byte_buf(Vec<u8>);
    }

    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        self.0.visit_none()
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        self.0.visit_unit()
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        self.0.visit_some(Strict(d))
    }

    fn visit_newtype_struct<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        self.0.visit_newtype_struct(Strict(d))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
        self.0.visit_seq(Seq(seq))
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        self.0.visit_map(Map(map))
    }

    fn visit_enum<A: EnumAccess<'de>>(self, data: A) -> Result<Self::Value, A::Error> {
        self.0.visit_enum(Enum(data))
    }
}

impl<'de, V: Visitor<'de>> Visitor<'de> for NoSeq<V> {
    type Value = V::Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.expecting(f)
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        self.0.visit_map(map)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, _seq: A) -> Result<Self::Value, A::Error> {
        Err(de::Error::invalid_type(de::Unexpected::Seq, &self))
    }
}

impl<'de, A: SeqAccess<'de>> SeqAccess<'de> for Seq<A> {
    type Error = A::Error;

    fn next_element_seed<T: DeserializeSeed<'de>>(&mut self, seed: T) -> Result<Option<T::Value>, Self::Error> {
        self.0.next_element_seed(Seed(seed))
    }

    fn size_hint(&self) -> Option<usize> {
        self.0.size_hint()
    }
}

impl<'de, A: MapAccess<'de>> MapAccess<'de> for Map<A> {
    type Error = A::Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(&mut self, seed: K) -> Result<Option<K::Value>, Self::Error> {
        self.0.next_key_seed(Seed(seed))
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, Self::Error> {
        self.0.next_value_seed(Seed(seed))
    }

    fn size_hint(&self) -> Option<usize> {
        self.0.size_hint()
    }
}

impl<'de, A: EnumAccess<'de>> EnumAccess<'de> for Enum<A> {
    type Error = A::Error;
    type Variant = Variant<A::Variant>;

    fn variant_seed<V: DeserializeSeed<'de>>(self, seed: V) -> Result<(V::Value, Self::Variant), Self::Error> {
        self.0.variant_seed(Seed(seed)).map(|(v, variant)| (v, Variant(variant)))
    }
}

impl<'de, A: VariantAccess<'de>> VariantAccess<'de> for Variant<A> {
    type Error = A::Error;

    fn unit_variant(self) -> Result<(), Self::Error> {
        self.0.unit_variant()
    }

    fn newtype_variant_seed<T: DeserializeSeed<'de>>(self, seed: T) -> Result<T::Value, Self::Error> {
        self.0.newtype_variant_seed(Seed(seed))
    }

    fn tuple_variant<V: Visitor<'de>>(self, len: usize, visitor: V) -> Result<V::Value, Self::Error> {
        self.0.tuple_variant(len, Wrap(visitor))
    }

    fn struct_variant<V: Visitor<'de>>(
        self,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        self.0.struct_variant(fields, NoSeq(Wrap(visitor)))
    }
}

#[cfg(test)]
mod tests {
    use super::{ReadError, from_slice};
    use serde::Deserialize;
    use std::collections::BTreeMap;

    #[derive(Debug, Deserialize, PartialEq)]
    struct Prefs {
        a: bool,
        b: Option<bool>,
    }

    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(rename_all = "snake_case")]
    enum Kind {
        Plain,
        Wrapped(String),
        Shaped { x: i64 },
    }

    #[derive(Debug, Deserialize, PartialEq)]
    struct Body {
        name: Option<String>,
        prefs: Option<Prefs>,
        #[serde(default)]
        list: Vec<Prefs>,
        #[serde(default)]
        tags: Vec<String>,
        #[serde(default)]
        extra: BTreeMap<String, serde_json::Value>,
        kind: Option<Kind>,
        pair: Option<(i64, String)>,
    }

    #[test]
    fn objects_read_as_before() {
        let b: Body = from_slice(
            br#"{"name": "n", "prefs": {"a": true}, "list": [{"a": false, "b": true}], "tags": ["x"],
                 "extra": {"k": [1, {"z": null}]}, "kind": {"shaped": {"x": 3}}, "pair": [1, "one"]}"#,
        )
        .unwrap();
        assert_eq!(b.prefs, Some(Prefs { a: true, b: None }));
        assert_eq!(b.list, vec![Prefs { a: false, b: Some(true) }]);
        assert_eq!(b.kind, Some(Kind::Shaped { x: 3 }));
        assert_eq!(b.pair, Some((1, "one".into())));
        assert_eq!(b.extra["k"], serde_json::json!([1, {"z": null}]));
        let b: Body = from_slice(br#"{"kind": "plain"}"#).unwrap();
        assert_eq!(b.kind, Some(Kind::Plain));
        let b: Body = from_slice(br#"{"kind": {"wrapped": "w"}}"#).unwrap();
        assert_eq!(b.kind, Some(Kind::Wrapped("w".into())));
    }

    #[test]
    fn structs_refuse_arrays_at_any_depth() {
        for (body, prefix) in [
            (&br#"[null, null]"#[..], "invalid type: sequence, expected struct Body"),
            (br#"{"prefs": [true, null]}"#, "prefs: invalid type: sequence, expected struct Prefs"),
            (br#"{"list": [{"a": true}, [false]]}"#, "list[1]: invalid type: sequence, expected struct Prefs"),
            (br#"{"kind": {"shaped": [3]}}"#, "kind.shaped: invalid type: sequence, expected struct variant"),
        ] {
            match from_slice::<Body>(body) {
                Err(ReadError::Data(m)) => assert!(m.starts_with(prefix), "{m}"),
                other => panic!("{}: {other:?}", String::from_utf8_lossy(body)),
            }
        }
    }

    #[test]
    fn syntax_errors_stay_syntax_errors() {
        assert!(matches!(from_slice::<Body>(br#"{"name": "#), Err(ReadError::Syntax)));
        assert!(matches!(from_slice::<Body>(br#"{"name": "n"} x"#), Err(ReadError::Syntax)));
        assert!(matches!(from_slice::<Body>(br#"{"name": 5}"#), Err(ReadError::Data(_))));
    }
}
