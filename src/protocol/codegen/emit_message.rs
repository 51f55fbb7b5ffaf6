//! Emits, for one message: the owned struct, its group entry structs, the zero-copy view and
//! the encoder.

use std::fmt::Write as _;

use super::emit::enum_null;
use super::error::CodegenError;
use super::model::{Field, Message, Prim, Schema, TypeDef};
use super::names;

/// Name of the zero-copy view of a message.
pub fn view_name(m: &Message) -> String {
    format!("{}View", m.name)
}

/// The Rust snippets that read, write, check and type one field.
struct FieldCode {
    rust_type: String,
    /// Expression over block `b` giving the (validated) value.
    read: String,
    /// Statement writing `VALUE` into block `b`.
    write: String,
    /// Statement returning `Err` if the raw value in `b` is invalid.
    check: Option<String>,
}

fn field_code(f: &Field, schema: &Schema) -> Result<FieldCode, CodegenError> {
    let ty = schema
        .types
        .get(&f.ty)
        .ok_or_else(|| CodegenError::UnknownType {
            field: f.name.clone(),
            ty: f.ty.clone(),
        })?;
    let off = f.offset;
    Ok(match ty {
        TypeDef::Scalar { prim, null, .. } => {
            let r = prim.rust();
            let raw = format!("wire::get_{r}(b, {off})");
            match null {
                Some(null) => FieldCode {
                    rust_type: format!("Option<{r}>"),
                    read: format!("wire::opt({raw}, {null}{r})"),
                    write: format!("wire::put_{r}(b, {off}, VALUE.unwrap_or({null}{r}));"),
                    check: None,
                },
                None => FieldCode {
                    rust_type: r.to_string(),
                    read: raw,
                    write: format!("wire::put_{r}(b, {off}, VALUE);"),
                    check: None,
                },
            }
        }
        TypeDef::Array { len } => FieldCode {
            rust_type: format!("[u8; {len}]"),
            read: format!("wire::get_array::<{len}>(b, {off})"),
            write: format!("wire::put_array(b, {off}, &VALUE);"),
            check: None,
        },
        TypeDef::Enum { name, prim, .. } => enum_code(f, name, *prim),
        TypeDef::Set { name, prim, .. } => set_code(f, name, *prim),
    })
}

fn enum_code(f: &Field, ty_name: &str, prim: Prim) -> FieldCode {
    let (name, off) = (&f.name, f.offset);
    let t = names::type_name(ty_name);
    let r = prim.rust();
    let raw = format!("wire::get_{r}(b, {off})");
    let null_ok = if f.optional {
        format!(" && raw != {}", enum_null(prim))
    } else {
        String::new()
    };
    let check = format!(
        "let raw = {raw};\n        if {t}::from_wire(raw).is_none(){null_ok} {{\n            \
         return Err(DecodeError::InvalidEnum {{ field: \"{name}\", value: u64::from(raw) \
         }});\n        }}"
    );
    if f.optional {
        FieldCode {
            rust_type: format!("Option<{t}>"),
            read: format!("wire::validated_opt({raw}, {t}::NULL, {t}::from_wire, \"{name}\")"),
            write: format!("wire::put_{r}(b, {off}, VALUE.map_or({t}::NULL, {t}::to_wire));"),
            check: Some(check),
        }
    } else {
        FieldCode {
            rust_type: t.clone(),
            read: format!("wire::validated({t}::from_wire({raw}), \"{name}\")"),
            write: format!("wire::put_{r}(b, {off}, VALUE.to_wire());"),
            check: Some(check),
        }
    }
}

fn set_code(f: &Field, ty_name: &str, prim: Prim) -> FieldCode {
    let (name, off) = (&f.name, f.offset);
    let t = names::type_name(ty_name);
    let r = prim.rust();
    let raw = format!("wire::get_{r}(b, {off})");
    FieldCode {
        rust_type: t.clone(),
        read: format!("wire::validated({t}::from_bits({raw}), \"{name}\")"),
        write: format!("wire::put_{r}(b, {off}, VALUE.bits());"),
        check: Some(format!(
            "let raw = {raw};\n        if {t}::from_bits(raw).is_none() {{\n            \
             return Err(DecodeError::InvalidSet {{ field: \"{name}\", bits: \
             u64::from(raw) }});\n        }}"
        )),
    }
}

fn doc(f: &Field) -> String {
    let opt = if f.optional { ", optional" } else { "" };
    format!(
        "/// {} (`{}`, id {}, offset {}{opt}).",
        f.description, f.name, f.id, f.offset
    )
}

/// Struct fields, `check`, `read` and `write` bodies for one block.
struct BlockCode {
    struct_fields: String,
    check: String,
    read: String,
    write: String,
}

fn block_code(fields: &[Field], schema: &Schema, indent: &str) -> Result<BlockCode, CodegenError> {
    let mut code = BlockCode {
        struct_fields: String::new(),
        check: String::new(),
        read: String::new(),
        write: String::new(),
    };
    for f in fields {
        let c = field_code(f, schema)?;
        let snake = names::snake(&f.name);
        let _ = writeln!(
            code.struct_fields,
            "    {}\n    pub {snake}: {},",
            doc(f),
            c.rust_type
        );
        if let Some(check) = c.check {
            let _ = writeln!(code.check, "        {{\n        {check}\n        }}");
        }
        let _ = writeln!(code.read, "{indent}{snake}: {},", c.read);
        let _ = writeln!(
            code.write,
            "        {}",
            c.write.replace("VALUE", &format!("self.{snake}"))
        );
    }
    Ok(code)
}

/// Emits the message's group entry types, owned struct, view and encoder.
///
/// # Errors
/// [`CodegenError::UnknownType`] if a field names an undeclared type.
pub fn emit_message(out: &mut String, m: &Message, schema: &Schema) -> Result<(), CodegenError> {
    for g in &m.groups {
        emit_entry(out, m, g, schema)?;
    }
    let block = block_code(&m.fields, schema, "            ")?;
    emit_owned(out, m, &block);
    emit_encode(out, m, &block);
    emit_view(out, m, schema, &block)?;
    Ok(())
}

fn emit_entry(
    out: &mut String,
    m: &Message,
    g: &super::model::Group,
    schema: &Schema,
) -> Result<(), CodegenError> {
    let entry = names::group_entry(&g.name);
    let code = block_code(&g.fields, schema, "            ")?;
    let _ = writeln!(
        out,
        "/// One entry of group `{}` (id {}) of `{}`: {}.\n\
         #[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]\npub struct {entry} {{\n{}}}\n",
        g.name, g.id, m.name, g.description, code.struct_fields
    );
    let _ = writeln!(
        out,
        "impl GroupEntry for {entry} {{\n    const BLOCK_LENGTH: usize = {};\n    \
         const NAME: &'static str = \"{}\";\n\n    \
         fn check(b: &[u8]) -> Result<(), DecodeError> {{\n{}        let _ = \
         b;\n        Ok(())\n    }}\n\n    \
         fn read(b: &[u8]) -> Self {{\n        Self {{\n{}        }}\n    }}\n\n    \
         fn write(&self, b: &mut [u8]) {{\n{}    }}\n}}\n",
        g.block_length, g.name, code.check, code.read, code.write
    );
    Ok(())
}

fn emit_owned(out: &mut String, m: &Message, block: &BlockCode) {
    let mut extra = String::new();
    for g in &m.groups {
        let _ = writeln!(
            extra,
            "    /// {} (group `{}`, id {}).\n    pub {}: GroupVec<{}, GROUP_ENTRIES_MAX>,",
            g.description,
            g.name,
            g.id,
            names::snake(&g.name),
            names::group_entry(&g.name)
        );
    }
    for d in &m.data {
        let _ = writeln!(
            extra,
            "    /// {} (`{}`, id {}, var data).\n    pub {}: VarData<VAR_DATA_MAX>,",
            d.description,
            d.name,
            d.id,
            names::snake(&d.name)
        );
    }
    let _ = writeln!(
        out,
        "/// {} Template {}, FIX MsgType `{}`; owned plain data.\n\
         #[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]\npub struct {} {{\n{}{}}}\n",
        m.description, m.id, m.semantic_type, m.name, block.struct_fields, extra
    );
}

fn emit_encode(out: &mut String, m: &Message, block: &BlockCode) {
    let mut len = format!("HEADER_LEN + {}", m.block_length);
    let mut tail = String::new();
    for g in &m.groups {
        let s = names::snake(&g.name);
        let _ = write!(
            len,
            " + group::encoded_len::<{}>(self.{s}.len())",
            names::group_entry(&g.name)
        );
        let _ = writeln!(
            tail,
            "        pos += group::write(&mut buf[pos..], self.{s}.as_slice());"
        );
    }
    for d in &m.data {
        let s = names::snake(&d.name);
        let _ = write!(len, " + var_data::encoded_len(self.{s}.len())");
        let _ = writeln!(
            tail,
            "        pos += var_data::write(&mut buf[pos..], self.{s}.as_bytes());"
        );
    }
    let _ = writeln!(
        out,
        "impl {name} {{\n    /// Writes the root block into `b` (exactly `BLOCK_LENGTH` \
            bytes).\n    \
         fn write_block(&self, b: &mut [u8]) {{\n{write}    }}\n}}\n\n\
         impl Encode for {name} {{\n    const TEMPLATE_ID: u16 = {id};\n    \
         const BLOCK_LENGTH: u16 = {bl};\n    const NAME: &'static str = \"{name}\";\n\n    \
         fn encoded_len(&self) -> usize {{\n        {len}\n    }}\n\n    \
         fn encode(&self, buf: &mut [u8]) -> Result<usize, EncodeError> {{\n        \
         let needed = self.encoded_len();\n        let available = buf.len();\n        \
         let buf = buf\n            .get_mut(..needed)\n            \
         .ok_or(EncodeError::BufferTooSmall {{ needed, available }})?;\n        \
         MessageHeader::for_template(Self::TEMPLATE_ID, Self::BLOCK_LENGTH).write(buf);\n        \
         self.write_block(&mut buf[HEADER_LEN..HEADER_LEN + {bl}]);\n        \
         #[allow(unused_mut)]\n        let mut pos = HEADER_LEN + {bl};\n{tail}        \
         debug_assert_eq!(pos, needed, \"encoded_len agrees with the bytes written\");\n        \
         Ok(pos)\n    }}\n}}\n",
        name = m.name,
        write = block.write,
        id = m.id,
        bl = m.block_length,
    );
}

/// The per-message pieces of a view: struct members, `wrap` steps, field initialisers,
/// accessors and the group/var-data part of `to_plain`.
#[derive(Default)]
struct ViewParts {
    members: String,
    wrap_tail: String,
    inits: String,
    accessors: String,
    plain_extra: String,
}

fn view_parts(m: &Message, schema: &Schema) -> Result<ViewParts, CodegenError> {
    let mut parts = ViewParts::default();
    let ViewParts {
        members,
        wrap_tail,
        inits,
        accessors,
        plain_extra,
    } = &mut parts;
    for g in &m.groups {
        let s = names::snake(&g.name);
        let e = names::group_entry(&g.name);
        let _ = writeln!(members, "    {s}: GroupView<'a, {e}>,");
        let _ = writeln!(
            wrap_tail,
            "        let ({s}, used) = group::read::<{e}>(rest(body, \
            pos), GROUP_ENTRIES_MAX)?;\n        pos += used;"
        );
        let _ = writeln!(inits, "            {s},");
        let _ = writeln!(
            accessors,
            "    /// {} (group `{}`).\n    pub fn {s}(&self) -> GroupView<'a, {e}> \
                {{\n        self.{s}\n    }}\n",
            g.description, g.name
        );
        let _ = writeln!(plain_extra, "            {s}: self.{s}.to_group_vec(),");
    }
    for d in &m.data {
        let s = names::snake(&d.name);
        let _ = writeln!(members, "    {s}: &'a [u8],");
        let _ = writeln!(
            wrap_tail,
            "        let ({s}, used) = var_data::read(rest(body, pos), \"{}\", \
                VAR_DATA_MAX)?;\n        pos += used;",
            d.name
        );
        let _ = writeln!(inits, "            {s},");
        let _ = writeln!(
            accessors,
            "    /// {} (`{}`, var data).\n    pub fn {s}(&self) -> &'a [u8] \
                {{\n        self.{s}\n    }}\n",
            d.description, d.name
        );
        let _ = writeln!(
            plain_extra,
            "            {s}: VarData::from_validated(self.{s}),"
        );
    }
    for f in &m.fields {
        let c = field_code(f, schema)?;
        let _ = writeln!(
            accessors,
            "    {}\n    pub fn {}(&self) -> {} {{\n        let b = \
                self.block;\n        {}\n    }}\n",
            doc(f),
            names::snake(&f.name),
            c.rust_type,
            c.read
        );
    }
    Ok(parts)
}

fn emit_view(
    out: &mut String,
    m: &Message,
    schema: &Schema,
    block: &BlockCode,
) -> Result<(), CodegenError> {
    let view = view_name(m);
    let ViewParts {
        members,
        wrap_tail,
        inits,
        accessors,
        plain_extra,
    } = view_parts(m, schema)?;
    let _ = writeln!(
        out,
        "/// Zero-copy view of a validated `{name}` (template {id}).\n\
         #[derive(Debug, Clone, Copy)]\npub struct {view}<'a> {{\n    block: &'a \
         [u8],\n{members}}}\n\n\
         impl<'a> {view}<'a> {{\n    \
         /// Validates `body` (the bytes after the message header) and wraps it; returns \
         the view\n    \
         /// and the number of body bytes the message occupies.\n    ///\n    \
         /// # Errors\n    /// [`DecodeError`] for a wrong block length, truncation, an \
         invalid enum or set\n    \
         /// value, or an oversized group or var-data field.\n    \
         pub fn wrap(header: &MessageHeader, body: &'a [u8]) -> Result<(Self, usize), \
         DecodeError> {{\n        \
         header.expect_block_length({bl})?;\n        let block = take(body, {bl})?;\n        \
         Self::check(block)?;\n        #[allow(unused_mut)]\n        let mut pos = \
         {bl};\n{wrap_tail}        \
         Ok((Self {{\n            block,\n{inits}        }}, pos))\n    }}\n\n    \
         fn check(b: &[u8]) -> Result<(), DecodeError> {{\n{check}        let _ = \
         b;\n        Ok(())\n    }}\n\n    \
         /// Copies the message into its owned form.\n    pub fn to_plain(&self) -> {name} \
         {{\n        \
         let b = self.block;\n        {name} \
         {{\n{read}{plain_extra}        }}\n    }}\n\n{accessors}}}\n",
        name = m.name,
        id = m.id,
        bl = m.block_length,
        check = block.check,
        read = block.read,
    );
    Ok(())
}

/// Rust expression of a distinctive, non-null value for field `f`, derived from `seed`.
fn sample_value(f: &Field, schema: &Schema, seed: u64) -> String {
    let Some(ty) = schema.types.get(&f.ty) else {
        return "Default::default()".into();
    };
    match ty {
        TypeDef::Scalar { prim, null, .. } => {
            let v = match prim {
                Prim::Char | Prim::U8 => format!("{}", seed % 250),
                Prim::I8 => format!("-{}", seed % 120),
                Prim::U16 => format!("{}", seed % 60_000 + 1),
                Prim::I16 => format!("-{}", seed % 30_000 + 1),
                Prim::U32 => format!("{}", seed.wrapping_mul(1_000_003) % 4_000_000_000 + 1),
                Prim::I32 => format!("-{}", seed.wrapping_mul(1_000_003) % 2_000_000_000 + 1),
                Prim::U64 => format!("{}", seed.wrapping_mul(1_000_000_007)),
                Prim::I64 => format!("-{}", seed.wrapping_mul(1_000_000_007)),
            };
            if null.is_some() {
                format!("Some({v})")
            } else {
                v
            }
        }
        TypeDef::Array { len } => format!("[{}u8; {len}]", seed % 90 + 33),
        TypeDef::Enum { name, values, .. } => {
            let last = values.last().map_or("Default::default()".to_string(), |v| {
                format!("{}::{}", names::type_name(name), names::variant(&v.name))
            });
            if f.optional {
                format!("Some({last})")
            } else {
                last
            }
        }
        TypeDef::Set { name, .. } => {
            let t = names::type_name(name);
            format!("{t}({t}::MASK)")
        }
    }
}

fn sample_fields(fields: &[Field], schema: &Schema, seed: u64, indent: &str) -> String {
    let mut out = String::new();
    for (i, f) in fields.iter().enumerate() {
        let v = sample_value(f, schema, seed * 100 + i as u64 + 1);
        let _ = writeln!(out, "{indent}{}: {v},", names::snake(&f.name));
    }
    out
}

/// A statement block building a fully populated sample of `m` as `Plain`.
pub fn emit_sample(m: &Message, schema: &Schema) -> String {
    let seed = u64::from(m.id);
    let mut pre = String::new();
    let mut extra = String::new();
    for (gi, g) in m.groups.iter().enumerate() {
        let s = names::snake(&g.name);
        let e = names::group_entry(&g.name);
        let _ = writeln!(pre, "        let mut {s} = GroupVec::new();");
        for k in 0..2u64 {
            let fields = sample_fields(
                &g.fields,
                schema,
                seed * 10 + gi as u64 * 2 + k,
                "            ",
            );
            let _ = writeln!(pre, "        let _ = {s}.push({e} {{\n{fields}        }});");
        }
        let _ = writeln!(extra, "            {s},");
    }
    for d in &m.data {
        let _ = writeln!(
            extra,
            "            {}: VarData::from_validated(\"sample {} of {}\".as_bytes()),",
            names::snake(&d.name),
            d.name,
            m.name
        );
    }
    let fields = sample_fields(&m.fields, schema, seed, "            ");
    format!(
        "    {{\n{pre}        out.push(Plain::{name}({name} \
            {{\n{fields}{extra}        }}));\n        \
         out.push(Plain::{name}({name}::default()));\n    }}\n",
        name = m.name
    )
}
