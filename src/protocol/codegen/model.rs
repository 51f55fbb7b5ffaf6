//! The subset of an SBE schema the generator understands, with layouts already checked.

use std::collections::BTreeMap;

/// Wire primitive of a field or of an enum/set encoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Prim {
    Char,
    U8,
    I8,
    U16,
    I16,
    U32,
    I32,
    U64,
    I64,
}

impl Prim {
    /// Parses an SBE `primitiveType`.
    pub fn parse(s: &str) -> Option<Prim> {
        Some(match s {
            "char" => Prim::Char,
            "uint8" => Prim::U8,
            "int8" => Prim::I8,
            "uint16" => Prim::U16,
            "int16" => Prim::I16,
            "uint32" => Prim::U32,
            "int32" => Prim::I32,
            "uint64" => Prim::U64,
            "int64" => Prim::I64,
            _ => return None,
        })
    }

    /// Size on the wire in bytes.
    pub fn size(self) -> usize {
        match self {
            Prim::Char | Prim::U8 | Prim::I8 => 1,
            Prim::U16 | Prim::I16 => 2,
            Prim::U32 | Prim::I32 => 4,
            Prim::U64 | Prim::I64 => 8,
        }
    }

    /// Rust type holding the value.
    pub fn rust(self) -> &'static str {
        match self {
            Prim::Char | Prim::U8 => "u8",
            Prim::I8 => "i8",
            Prim::U16 => "u16",
            Prim::I16 => "i16",
            Prim::U32 => "u32",
            Prim::I32 => "i32",
            Prim::U64 => "u64",
            Prim::I64 => "i64",
        }
    }
}

/// A named type a field may use.
#[derive(Debug, Clone)]
pub enum TypeDef {
    /// A primitive, or a decimal composite whose only encoded member is its mantissa.
    Scalar {
        prim: Prim,
        null: Option<String>,
        exponent: Option<i8>,
    },
    /// A fixed-length array of `char` or `uint8`.
    Array { len: usize },
    /// An enumeration; values are the raw wire numbers.
    Enum {
        name: String,
        prim: Prim,
        values: Vec<EnumValue>,
        description: String,
    },
    /// A bit set over an unsigned integer.
    Set {
        name: String,
        prim: Prim,
        choices: Vec<EnumValue>,
        description: String,
    },
}

impl TypeDef {
    /// Size on the wire in bytes.
    pub fn size(&self) -> usize {
        match self {
            TypeDef::Scalar { prim, .. }
            | TypeDef::Enum { prim, .. }
            | TypeDef::Set { prim, .. } => prim.size(),
            TypeDef::Array { len } => *len,
        }
    }
}

/// One validValue of an enum or one choice of a set.
#[derive(Debug, Clone)]
pub struct EnumValue {
    pub name: String,
    pub value: u64,
    pub description: String,
}

/// A fixed-size field of a message or group block.
#[derive(Debug, Clone)]
pub struct Field {
    pub name: String,
    pub id: u32,
    pub ty: String,
    pub offset: usize,
    pub optional: bool,
    pub description: String,
}

/// A repeating group of fixed-size entries.
#[derive(Debug, Clone)]
pub struct Group {
    pub name: String,
    pub id: u32,
    pub block_length: usize,
    pub fields: Vec<Field>,
    pub description: String,
}

/// A variable-length data field (varStringEncoding).
#[derive(Debug, Clone)]
pub struct Data {
    pub name: String,
    pub id: u32,
    pub description: String,
}

/// One message template.
#[derive(Debug, Clone)]
pub struct Message {
    pub name: String,
    pub id: u16,
    pub semantic_type: String,
    pub block_length: usize,
    pub description: String,
    pub fields: Vec<Field>,
    pub groups: Vec<Group>,
    pub data: Vec<Data>,
}

/// The whole schema.
#[derive(Debug, Clone)]
pub struct Schema {
    pub id: u16,
    pub version: u16,
    pub types: BTreeMap<String, TypeDef>,
    pub group_max: usize,
    pub var_data_max: usize,
    pub messages: Vec<Message>,
}
