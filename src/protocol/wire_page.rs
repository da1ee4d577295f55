//! Reading a pull body in one pass without building a JSON map for anything but the rows.
//!
//! Parsing the whole body into a `serde_json::Value` first made a map, four key strings and
//! two value strings for every item's envelope (`kind`, `op`, `row`, `version`/`id`), only
//! to take them apart again. Here the body's top level and each item are read field by field
//! (keys are matched as borrowed strings, unknown fields are skipped unread) and only the
//! field values are built as `Value`s, so [`super::pull`]'s validation works on exactly the
//! values it saw before. Anything that is not the expected shape is kept as "not an object"
//! or "not an array", never a parse error, so a wrong shape is still reported as
//! `PageError::Shape` or as an item error with its index, as before.

use serde::de::{self, Deserialize, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::Value;
use std::fmt;

/// One item's fields; `None` = absent. A repeated key keeps its last value (as a map would).
#[derive(Debug, Default)]
pub(super) struct Envelope {
    pub kind: Option<Value>,
    pub op: Option<Value>,
    pub row: Option<Value>,
    pub version: Option<Value>,
    pub id: Option<Value>,
}

/// An entry of `items`.
#[derive(Debug)]
pub(super) enum Slot {
    Item(Envelope),
    NotObject,
}

/// The body's top level.
#[derive(Debug)]
pub(super) enum Top {
    Object {
        /// `Some(None)`: `items` is there but is not an array.
        items: Option<Option<Vec<Slot>>>,
        next_cursor: Option<Value>,
        drained: Option<Value>,
    },
    NotObject,
}

/// Accepts scalars and sequences as `$other`, consuming whatever they hold.
macro_rules! other_shapes {
    ($other:expr) => {
        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok($other)
        }
        fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
            Ok($other)
        }
        fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
            Ok($other)
        }
        fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
            Ok($other)
        }
        fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
            Ok($other)
        }
        fn visit_str<E: de::Error>(self, _: &str) -> Result<Self::Value, E> {
            Ok($other)
        }
    };
}

/// The names the envelope reads; every other key is skipped.
enum Field {
    Kind,
    Op,
    Row,
    Version,
    Id,
    Items,
    NextCursor,
    Drained,
    Other,
}

impl<'de> Deserialize<'de> for Field {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct FieldVisitor;
        impl Visitor<'_> for FieldVisitor {
            type Value = Field;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a field name")
            }
            fn visit_str<E: de::Error>(self, name: &str) -> Result<Field, E> {
                Ok(match name {
                    "kind" => Field::Kind,
                    "op" => Field::Op,
                    "row" => Field::Row,
                    "version" => Field::Version,
                    "id" => Field::Id,
                    "items" => Field::Items,
                    "nextCursor" => Field::NextCursor,
                    "drained" => Field::Drained,
                    _ => Field::Other,
                })
            }
        }
        d.deserialize_identifier(FieldVisitor)
    }
}

impl<'de> Deserialize<'de> for Slot {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct SlotVisitor;
        impl<'de> Visitor<'de> for SlotVisitor {
            type Value = Slot;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a pull item")
            }
            other_shapes!(Slot::NotObject);
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Slot, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(Slot::NotObject)
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Slot, A::Error> {
                let mut e = Envelope::default();
                while let Some(field) = map.next_key::<Field>()? {
                    let slot = match field {
                        Field::Kind => &mut e.kind,
                        Field::Op => &mut e.op,
                        Field::Row => &mut e.row,
                        Field::Version => &mut e.version,
                        Field::Id => &mut e.id,
                        _ => {
                            map.next_value::<IgnoredAny>()?;
                            continue;
                        }
                    };
                    *slot = Some(map.next_value::<Value>()?);
                }
                Ok(Slot::Item(e))
            }
        }
        d.deserialize_any(SlotVisitor)
    }
}

/// `items` when it is an array, `None` when it is anything else.
struct Items(Option<Vec<Slot>>);

impl<'de> Deserialize<'de> for Items {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct ItemsVisitor;
        impl<'de> Visitor<'de> for ItemsVisitor {
            type Value = Items;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an array of items")
            }
            other_shapes!(Items(None));
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Items, A::Error> {
                let mut slots = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(4096));
                while let Some(slot) = seq.next_element::<Slot>()? {
                    slots.push(slot);
                }
                Ok(Items(Some(slots)))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Items, A::Error> {
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(Items(None))
            }
        }
        d.deserialize_any(ItemsVisitor)
    }
}

impl<'de> Deserialize<'de> for Top {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct TopVisitor;
        impl<'de> Visitor<'de> for TopVisitor {
            type Value = Top;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a pull page")
            }
            other_shapes!(Top::NotObject);
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Top, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(Top::NotObject)
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Top, A::Error> {
                let (mut items, mut next_cursor, mut drained) = (None, None, None);
                while let Some(field) = map.next_key::<Field>()? {
                    match field {
                        Field::Items => items = Some(map.next_value::<Items>()?.0),
                        Field::NextCursor => next_cursor = Some(map.next_value::<Value>()?),
                        Field::Drained => drained = Some(map.next_value::<Value>()?),
                        _ => {
                            map.next_value::<IgnoredAny>()?;
                        }
                    }
                }
                Ok(Top::Object {
                    items,
                    next_cursor,
                    drained,
                })
            }
        }
        d.deserialize_any(TopVisitor)
    }
}
