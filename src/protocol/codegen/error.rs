//! Errors raised while reading the schema; each names the element at fault.

use thiserror::Error;

/// A schema the generator refuses to turn into code.
#[derive(Debug, Error)]
pub enum CodegenError {
    /// The file is not well-formed XML.
    #[error("schema.xml is not valid XML: {0}")]
    Xml(#[from] roxmltree::Error),
    /// A required attribute is absent.
    #[error("<{element} name={name:?}> lacks attribute {attribute:?}")]
    MissingAttribute {
        /// Element tag.
        element: String,
        /// Name attribute of the element, if any.
        name: String,
        /// Attribute looked for.
        attribute: &'static str,
    },
    /// An attribute or text does not parse as the expected kind of value.
    #[error("{context}: cannot parse {value:?}")]
    BadValue {
        /// Where the value was read.
        context: String,
        /// The offending text.
        value: String,
    },
    /// A field refers to a type the schema does not declare or the generator does not support.
    #[error("field {field} uses unsupported or unknown type {ty:?}")]
    UnknownType {
        /// Field name.
        field: String,
        /// Type name.
        ty: String,
    },
    /// Field offsets leave a gap, overlap, or disagree with the declared block length.
    #[error("{owner}: field {field} at offset {offset} but the previous field ends at {expected}")]
    BadOffset {
        /// Message or group name.
        owner: String,
        /// Field name.
        field: String,
        /// Declared offset.
        offset: usize,
        /// End of the previous field.
        expected: usize,
    },
    /// The declared block length differs from the sum of the field sizes.
    #[error("{owner}: blockLength {declared} but fields occupy {computed} bytes")]
    BadBlockLength {
        /// Message or group name.
        owner: String,
        /// blockLength attribute.
        declared: usize,
        /// End of the last field.
        computed: usize,
    },
    /// Anything else the generator does not support, with the reason.
    #[error("unsupported schema construct: {0}")]
    Unsupported(String),
}
