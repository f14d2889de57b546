//! A small, safe Python pickle virtual machine: just enough of protocols 2–4 to read the official
//! NATS-Bench archives (`*.pickle.pbz2`) without Python.
//!
//! Opcode semantics follow the Python `pickletools` documentation (the annotated opcode table in
//! `Lib/pickletools.py`). The VM is deliberately closed: the only globals it resolves are
//! `collections.OrderedDict` (→ [`Value::Dict`]), `numpy.dtype` and
//! `numpy.core.multiarray.scalar` (numpy scalars are decoded from their raw bytes into
//! [`Value::Float`] / [`Value::Int`] / [`Value::Bool`]). Any other global, any unknown opcode and
//! any truncated or inconsistent input is a [`PickleError`] naming the opcode (or global) and the
//! byte offset; nothing is ever executed and the VM never panics on bad input.
//!
//! Objects are kept in an arena while the VM runs so that memoised containers that are mutated
//! after being memoised (the pickler memoises a dict *before* its `SETITEMS`) are shared
//! correctly, as in Python; the result is converted to a plain [`Value`] tree at `STOP`.

use std::collections::HashMap;

/// A decoded pickle value.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    None,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    Bytes(Vec<u8>),
    List(Vec<Value>),
    Tuple(Vec<Value>),
    /// `dict` and `collections.OrderedDict`, as ordered (key, value) pairs.
    Dict(Vec<(Value, Value)>),
    /// `set` / `frozenset`, in pickle order.
    Set(Vec<Value>),
}

impl Value {
    /// Dict lookup by string key (first match); `None` for non-dicts and missing keys.
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.get_by(|k| matches!(k, Value::Str(s) if s == key))
    }

    /// Dict lookup by any key predicate.
    pub fn get_by(&self, mut pred: impl FnMut(&Value) -> bool) -> Option<&Value> {
        match self {
            Value::Dict(pairs) => pairs.iter().find(|(k, _)| pred(k)).map(|(_, v)| v),
            _ => None,
        }
    }

    /// Numeric value as f64 (ints and floats; bools are not numbers here).
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Value::Float(x) => Some(*x),
            Value::Int(i) => Some(*i as f64),
            _ => None,
        }
    }

    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Value::Int(i) => Some(*i),
            _ => None,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    /// Elements of a list or tuple.
    pub fn as_seq(&self) -> Option<&[Value]> {
        match self {
            Value::List(v) | Value::Tuple(v) => Some(v),
            _ => None,
        }
    }

    pub fn as_dict(&self) -> Option<&[(Value, Value)]> {
        match self {
            Value::Dict(p) => Some(p),
            _ => None,
        }
    }

    /// A short type name for error messages.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::None => "None",
            Value::Bool(_) => "bool",
            Value::Int(_) => "int",
            Value::Float(_) => "float",
            Value::Str(_) => "str",
            Value::Bytes(_) => "bytes",
            Value::List(_) => "list",
            Value::Tuple(_) => "tuple",
            Value::Dict(_) => "dict",
            Value::Set(_) => "set",
        }
    }
}

/// Why a pickle stream was rejected. Offsets are byte offsets into the (decompressed) stream.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum PickleError {
    #[error("truncated pickle: opcode {opcode} at byte {offset} needs more data")]
    Truncated { opcode: String, offset: usize },
    #[error("pickle ended without STOP at byte {offset}")]
    NoStop { offset: usize },
    #[error("unsupported pickle opcode 0x{code:02x} ({name}) at byte {offset}")]
    UnknownOpcode {
        code: u8,
        name: &'static str,
        offset: usize,
    },
    #[error("unsupported pickle global {module}.{name} at byte {offset}")]
    UnsupportedGlobal {
        module: String,
        name: String,
        offset: usize,
    },
    #[error("malformed pickle: {what} (opcode {opcode} at byte {offset})")]
    Malformed {
        what: String,
        opcode: String,
        offset: usize,
    },
    #[error("pickle nesting deeper than {MAX_DEPTH} (or cyclic)")]
    TooDeep,
    #[error("pickle expands to more than {MAX_NODES} values (shared references)")]
    TooLarge,
}

/// Deeper trees are rejected (also catches self-referencing containers).
pub const MAX_DEPTH: usize = 64;
/// Shared references can make the value tree exponentially larger than the stream; the
/// expansion is capped (the real files expand to < 100,000 values each).
pub const MAX_NODES: usize = 4_000_000;

/// The globals this VM knows.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Global {
    OrderedDict,
    Dtype,
    Scalar,
}

/// A numpy dtype: kind char (`f`, `i`, `u`, `b`), item size and byte order.
#[derive(Debug, Clone, PartialEq)]
struct Dtype {
    kind: u8,
    size: usize,
    big_endian: bool,
}

/// Arena object; containers refer to other objects by arena id.
#[derive(Debug, Clone)]
enum Obj {
    Leaf(Value),
    List(Vec<usize>),
    Tuple(Vec<usize>),
    Dict(Vec<(usize, usize)>),
    Set(Vec<usize>),
    Global(Global),
    Dtype(Dtype),
}

/// Parses a complete pickle stream into a [`Value`].
pub fn loads(data: &[u8]) -> Result<Value, PickleError> {
    Vm::new(data).run()
}

struct Vm<'a> {
    data: &'a [u8],
    pos: usize,
    /// Offset and name of the opcode being executed, for errors.
    op_at: usize,
    op_name: &'static str,
    arena: Vec<Obj>,
    stack: Vec<usize>,
    marks: Vec<usize>,
    memo: HashMap<u32, usize>,
}

fn opcode_name(code: u8) -> &'static str {
    match code {
        b'(' => "MARK",
        b'.' => "STOP",
        b'0' => "POP",
        b'1' => "POP_MARK",
        b'2' => "DUP",
        b'F' => "FLOAT",
        b'I' => "INT",
        b'J' => "BININT",
        b'K' => "BININT1",
        b'L' => "LONG",
        b'M' => "BININT2",
        b'N' => "NONE",
        b'P' => "PERSID",
        b'Q' => "BINPERSID",
        b'R' => "REDUCE",
        b'S' => "STRING",
        b'T' => "BINSTRING",
        b'U' => "SHORT_BINSTRING",
        b'V' => "UNICODE",
        b'X' => "BINUNICODE",
        b'a' => "APPEND",
        b'b' => "BUILD",
        b'c' => "GLOBAL",
        b'd' => "DICT",
        b'}' => "EMPTY_DICT",
        b'e' => "APPENDS",
        b'g' => "GET",
        b'h' => "BINGET",
        b'i' => "INST",
        b'j' => "LONG_BINGET",
        b'l' => "LIST",
        b']' => "EMPTY_LIST",
        b'o' => "OBJ",
        b'p' => "PUT",
        b'q' => "BINPUT",
        b'r' => "LONG_BINPUT",
        b's' => "SETITEM",
        b't' => "TUPLE",
        b')' => "EMPTY_TUPLE",
        b'u' => "SETITEMS",
        b'G' => "BINFLOAT",
        0x80 => "PROTO",
        0x81 => "NEWOBJ",
        0x82 => "EXT1",
        0x83 => "EXT2",
        0x84 => "EXT4",
        0x85 => "TUPLE1",
        0x86 => "TUPLE2",
        0x87 => "TUPLE3",
        0x88 => "NEWTRUE",
        0x89 => "NEWFALSE",
        0x8a => "LONG1",
        0x8b => "LONG4",
        b'B' => "BINBYTES",
        b'C' => "SHORT_BINBYTES",
        0x8c => "SHORT_BINUNICODE",
        0x8d => "BINUNICODE8",
        0x8e => "BINBYTES8",
        0x8f => "EMPTY_SET",
        0x90 => "ADDITEMS",
        0x91 => "FROZENSET",
        0x92 => "NEWOBJ_EX",
        0x93 => "STACK_GLOBAL",
        0x94 => "MEMOIZE",
        0x95 => "FRAME",
        0x96 => "BYTEARRAY8",
        0x97 => "NEXT_BUFFER",
        0x98 => "READONLY_BUFFER",
        _ => "unknown",
    }
}

impl<'a> Vm<'a> {
    fn new(data: &'a [u8]) -> Self {
        Vm {
            data,
            pos: 0,
            op_at: 0,
            op_name: "",
            arena: Vec::new(),
            stack: Vec::new(),
            marks: Vec::new(),
            memo: HashMap::new(),
        }
    }

    fn truncated(&self) -> PickleError {
        PickleError::Truncated {
            opcode: self.op_name.to_string(),
            offset: self.op_at,
        }
    }

    fn malformed(&self, what: impl Into<String>) -> PickleError {
        PickleError::Malformed {
            what: what.into(),
            opcode: self.op_name.to_string(),
            offset: self.op_at,
        }
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], PickleError> {
        let end = self.pos.checked_add(n).ok_or_else(|| self.truncated())?;
        if end > self.data.len() {
            return Err(self.truncated());
        }
        let s = &self.data[self.pos..end];
        self.pos = end;
        Ok(s)
    }

    fn u8(&mut self) -> Result<u8, PickleError> {
        Ok(self.take(1)?[0])
    }

    fn u16(&mut self) -> Result<u16, PickleError> {
        let b = self.take(2)?;
        Ok(u16::from_le_bytes([b[0], b[1]]))
    }

    fn u32(&mut self) -> Result<u32, PickleError> {
        let b = self.take(4)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    fn u64(&mut self) -> Result<u64, PickleError> {
        let b = self.take(8)?;
        let mut a = [0u8; 8];
        a.copy_from_slice(b);
        Ok(u64::from_le_bytes(a))
    }

    fn len64(&mut self) -> Result<usize, PickleError> {
        let n = self.u64()?;
        usize::try_from(n).map_err(|_| self.truncated())
    }

    fn line(&mut self) -> Result<&'a str, PickleError> {
        let rest = &self.data[self.pos..];
        let nl = rest
            .iter()
            .position(|&b| b == b'\n')
            .ok_or_else(|| self.truncated())?;
        self.pos += nl + 1;
        std::str::from_utf8(&rest[..nl]).map_err(|_| self.malformed("non-UTF-8 text argument"))
    }

    fn utf8(&self, b: &[u8]) -> Result<String, PickleError> {
        String::from_utf8(b.to_vec()).map_err(|_| self.malformed("invalid UTF-8 in string"))
    }

    fn alloc(&mut self, o: Obj) -> usize {
        self.arena.push(o);
        self.arena.len() - 1
    }

    fn push(&mut self, o: Obj) {
        let id = self.alloc(o);
        self.stack.push(id);
    }

    fn push_leaf(&mut self, v: Value) {
        self.push(Obj::Leaf(v));
    }

    fn pop(&mut self) -> Result<usize, PickleError> {
        let floor = self.marks.last().copied().unwrap_or(0);
        if self.stack.len() <= floor {
            return Err(self.malformed("stack underflow"));
        }
        Ok(self.stack.pop().expect("checked"))
    }

    fn top(&self) -> Result<usize, PickleError> {
        let floor = self.marks.last().copied().unwrap_or(0);
        if self.stack.len() <= floor {
            return Err(self.malformed("stack underflow"));
        }
        Ok(*self.stack.last().expect("checked"))
    }

    /// Pops everything above the topmost MARK, and the mark.
    fn pop_mark(&mut self) -> Result<Vec<usize>, PickleError> {
        let m = self.marks.pop().ok_or_else(|| self.malformed("no MARK"))?;
        Ok(self.stack.split_off(m))
    }

    fn memo_put(&mut self, key: u32) -> Result<(), PickleError> {
        let top = self.top()?;
        self.memo.insert(key, top);
        Ok(())
    }

    fn memo_get(&mut self, key: u32) -> Result<(), PickleError> {
        let id = *self
            .memo
            .get(&key)
            .ok_or_else(|| self.malformed(format!("memo key {key} not defined")))?;
        self.stack.push(id);
        Ok(())
    }

    fn resolve_global(&self, module: &str, name: &str) -> Result<Global, PickleError> {
        match (module, name) {
            ("collections", "OrderedDict") => Ok(Global::OrderedDict),
            ("numpy", "dtype") => Ok(Global::Dtype),
            ("numpy.core.multiarray", "scalar") | ("numpy._core.multiarray", "scalar") => {
                Ok(Global::Scalar)
            }
            _ => Err(PickleError::UnsupportedGlobal {
                module: module.chars().take(80).collect(),
                name: name.chars().take(80).collect(),
                offset: self.op_at,
            }),
        }
    }

    fn str_of(&self, id: usize) -> Option<&str> {
        match &self.arena[id] {
            Obj::Leaf(Value::Str(s)) => Some(s),
            _ => None,
        }
    }

    fn list_items_mut(&mut self, target: usize, items: Vec<usize>) -> Result<(), PickleError> {
        match &mut self.arena[target] {
            Obj::List(v) | Obj::Set(v) => {
                v.extend(items);
                Ok(())
            }
            _ => Err(self.malformed("APPEND/ADDITEMS target is not a list or set")),
        }
    }

    fn set_items(&mut self, target: usize, kv: Vec<usize>) -> Result<(), PickleError> {
        if kv.len() % 2 != 0 {
            return Err(self.malformed("odd number of items for SETITEMS"));
        }
        match &mut self.arena[target] {
            Obj::Dict(pairs) => {
                for c in kv.chunks_exact(2) {
                    pairs.push((c[0], c[1]));
                }
                Ok(())
            }
            _ => Err(self.malformed("SETITEM(S) target is not a dict")),
        }
    }

    /// `callable(*args)` for the known globals.
    fn reduce(&mut self, func: usize, args: usize) -> Result<Obj, PickleError> {
        let g = match &self.arena[func] {
            Obj::Global(g) => *g,
            _ => return Err(self.malformed("REDUCE of a non-callable")),
        };
        let args = match &self.arena[args] {
            Obj::Tuple(a) => a.clone(),
            _ => return Err(self.malformed("REDUCE arguments are not a tuple")),
        };
        match g {
            Global::OrderedDict => {
                if !args.is_empty() {
                    return Err(self.malformed("OrderedDict with constructor arguments"));
                }
                Ok(Obj::Dict(Vec::new()))
            }
            Global::Dtype => {
                let spec = args
                    .first()
                    .and_then(|&a| self.str_of(a))
                    .ok_or_else(|| self.malformed("numpy.dtype without a type string"))?;
                self.parse_dtype(spec).map(Obj::Dtype)
            }
            Global::Scalar => {
                let (dt, raw) = match args.as_slice() {
                    [d, b] => (*d, *b),
                    _ => return Err(self.malformed("numpy scalar needs (dtype, bytes)")),
                };
                let dt = match &self.arena[dt] {
                    Obj::Dtype(d) => d.clone(),
                    _ => return Err(self.malformed("numpy scalar without a dtype")),
                };
                let bytes = match &self.arena[raw] {
                    Obj::Leaf(Value::Bytes(b)) => b.clone(),
                    // Python 2 pickles carry the raw bytes as a latin-1 str.
                    Obj::Leaf(Value::Str(s)) => s.chars().map(|c| c as u32 as u8).collect(),
                    _ => return Err(self.malformed("numpy scalar without raw bytes")),
                };
                Ok(Obj::Leaf(self.decode_scalar(&dt, &bytes)?))
            }
        }
    }

    fn parse_dtype(&self, spec: &str) -> Result<Dtype, PickleError> {
        let (order, rest) = match spec.as_bytes().first() {
            Some(b'<') | Some(b'|') | Some(b'=') => (false, &spec[1..]),
            Some(b'>') => (true, &spec[1..]),
            _ => (false, spec),
        };
        let unsupported = || self.malformed(format!("unsupported numpy dtype {spec:?}"));
        let kind = *rest.as_bytes().first().ok_or_else(unsupported)?;
        let size: usize = rest
            .get(1..)
            .and_then(|s| s.parse().ok())
            .ok_or_else(unsupported)?;
        let ok = matches!(
            (kind, size),
            (b'f', 4) | (b'f', 8) | (b'i', 1 | 2 | 4 | 8) | (b'u', 1 | 2 | 4 | 8) | (b'b', 1)
        );
        if !ok {
            return Err(unsupported());
        }
        Ok(Dtype {
            kind,
            size,
            big_endian: order,
        })
    }

    fn decode_scalar(&self, dt: &Dtype, raw: &[u8]) -> Result<Value, PickleError> {
        if raw.len() != dt.size {
            return Err(self.malformed(format!(
                "numpy scalar has {} bytes, dtype needs {}",
                raw.len(),
                dt.size
            )));
        }
        let mut b = [0u8; 8];
        if dt.big_endian {
            for (i, &x) in raw.iter().rev().enumerate() {
                b[i] = x;
            }
        } else {
            b[..raw.len()].copy_from_slice(raw);
        }
        let u = u64::from_le_bytes(b);
        Ok(match (dt.kind, dt.size) {
            (b'f', 8) => Value::Float(f64::from_bits(u)),
            (b'f', 4) => Value::Float(f32::from_bits(u as u32) as f64),
            (b'b', _) => Value::Bool(u != 0),
            (b'i', n) => {
                let shift = 64 - 8 * n as u32;
                Value::Int(((u << shift) as i64) >> shift)
            }
            (b'u', 8) => Value::Int(
                i64::try_from(u).map_err(|_| self.malformed("uint64 scalar out of range"))?,
            ),
            (b'u', _) => Value::Int(u as i64),
            _ => return Err(self.malformed("unsupported numpy scalar")),
        })
    }

    /// `BUILD`: state for a numpy dtype is `(version, byteorder, …)`; anything else is rejected.
    fn build(&mut self, target: usize, state: usize) -> Result<(), PickleError> {
        let order = match &self.arena[state] {
            Obj::Tuple(items) if items.len() >= 2 => self.str_of(items[1]).map(str::to_string),
            _ => None,
        };
        match &mut self.arena[target] {
            Obj::Dtype(d) => {
                match order.as_deref() {
                    Some(">") => d.big_endian = true,
                    Some("<") | Some("|") | Some("=") => d.big_endian = false,
                    _ => return Err(self.malformed("numpy dtype state without a byte order")),
                }
                Ok(())
            }
            _ => Err(self.malformed("BUILD on an object other than a numpy dtype")),
        }
    }

    fn run(mut self) -> Result<Value, PickleError> {
        loop {
            if self.pos >= self.data.len() {
                return Err(PickleError::NoStop { offset: self.pos });
            }
            self.op_at = self.pos;
            let code = self.data[self.pos];
            self.pos += 1;
            self.op_name = opcode_name(code);
            match code {
                0x80 => {
                    let p = self.u8()?;
                    if p > 5 {
                        return Err(self.malformed(format!("pickle protocol {p}")));
                    }
                }
                0x95 => {
                    // FRAME: an 8-byte length; frames only group opcodes.
                    let n = self.len64()?;
                    if n > self.data.len() - self.pos {
                        return Err(self.truncated());
                    }
                }
                b'.' => {
                    let top = self.pop()?;
                    let mut budget = MAX_NODES;
                    return self.to_value(top, 0, &mut budget);
                }
                b'(' => self.marks.push(self.stack.len()),
                b'0' => {
                    self.pop()?;
                }
                b'1' => {
                    self.pop_mark()?;
                }
                b'2' => {
                    let t = self.top()?;
                    self.stack.push(t);
                }
                b'N' => self.push_leaf(Value::None),
                0x88 => self.push_leaf(Value::Bool(true)),
                0x89 => self.push_leaf(Value::Bool(false)),
                b'J' => {
                    let v = self.u32()? as i32;
                    self.push_leaf(Value::Int(v as i64));
                }
                b'K' => {
                    let v = self.u8()?;
                    self.push_leaf(Value::Int(v as i64));
                }
                b'M' => {
                    let v = self.u16()?;
                    self.push_leaf(Value::Int(v as i64));
                }
                0x8a => {
                    let n = self.u8()? as usize;
                    let b = self.take(n)?;
                    if n > 8 {
                        return Err(self.malformed(format!("LONG1 of {n} bytes exceeds i64")));
                    }
                    let v = if n == 0 {
                        0
                    } else {
                        let mut a = [0u8; 8];
                        a[..n].copy_from_slice(b);
                        let shift = 64 - 8 * n as u32;
                        (i64::from_le_bytes(a) << shift) >> shift
                    };
                    self.push_leaf(Value::Int(v));
                }
                b'G' => {
                    let b = self.take(8)?;
                    let mut a = [0u8; 8];
                    a.copy_from_slice(b);
                    self.push_leaf(Value::Float(f64::from_be_bytes(a)));
                }
                b'X' => {
                    let n = self.u32()? as usize;
                    let b = self.take(n)?;
                    let s = self.utf8(b)?;
                    self.push_leaf(Value::Str(s));
                }
                0x8c => {
                    let n = self.u8()? as usize;
                    let b = self.take(n)?;
                    let s = self.utf8(b)?;
                    self.push_leaf(Value::Str(s));
                }
                0x8d => {
                    let n = self.len64()?;
                    let b = self.take(n)?;
                    let s = self.utf8(b)?;
                    self.push_leaf(Value::Str(s));
                }
                b'C' => {
                    let n = self.u8()? as usize;
                    let b = self.take(n)?.to_vec();
                    self.push_leaf(Value::Bytes(b));
                }
                b'B' => {
                    let n = self.u32()? as usize;
                    let b = self.take(n)?.to_vec();
                    self.push_leaf(Value::Bytes(b));
                }
                0x8e => {
                    let n = self.len64()?;
                    let b = self.take(n)?.to_vec();
                    self.push_leaf(Value::Bytes(b));
                }
                b'}' => self.push(Obj::Dict(Vec::new())),
                b']' => self.push(Obj::List(Vec::new())),
                b')' => self.push(Obj::Tuple(Vec::new())),
                0x8f => self.push(Obj::Set(Vec::new())),
                0x85..=0x87 => {
                    let n = (code - 0x84) as usize;
                    let mut items = Vec::with_capacity(n);
                    for _ in 0..n {
                        items.push(self.pop()?);
                    }
                    items.reverse();
                    self.push(Obj::Tuple(items));
                }
                b't' => {
                    let items = self.pop_mark()?;
                    self.push(Obj::Tuple(items));
                }
                b'l' => {
                    let items = self.pop_mark()?;
                    self.push(Obj::List(items));
                }
                b'd' => {
                    let items = self.pop_mark()?;
                    let id = self.alloc(Obj::Dict(Vec::new()));
                    self.set_items(id, items)?;
                    self.stack.push(id);
                }
                0x91 => {
                    let items = self.pop_mark()?;
                    self.push(Obj::Set(items));
                }
                b'a' => {
                    let v = self.pop()?;
                    let t = self.top()?;
                    self.list_items_mut(t, vec![v])?;
                }
                b'e' | 0x90 => {
                    let items = self.pop_mark()?;
                    let t = self.top()?;
                    self.list_items_mut(t, items)?;
                }
                b's' => {
                    let v = self.pop()?;
                    let k = self.pop()?;
                    let t = self.top()?;
                    self.set_items(t, vec![k, v])?;
                }
                b'u' => {
                    let items = self.pop_mark()?;
                    let t = self.top()?;
                    self.set_items(t, items)?;
                }
                0x94 => {
                    let n = self.memo.len() as u32;
                    self.memo_put(n)?;
                }
                b'q' => {
                    let k = self.u8()? as u32;
                    self.memo_put(k)?;
                }
                b'r' => {
                    let k = self.u32()?;
                    self.memo_put(k)?;
                }
                b'h' => {
                    let k = self.u8()? as u32;
                    self.memo_get(k)?;
                }
                b'j' => {
                    let k = self.u32()?;
                    self.memo_get(k)?;
                }
                b'c' => {
                    let module = self.line()?;
                    let name = self.line()?;
                    let g = self.resolve_global(module, name)?;
                    self.push(Obj::Global(g));
                }
                0x93 => {
                    let name = self.pop()?;
                    let module = self.pop()?;
                    let (m, n) = match (self.str_of(module), self.str_of(name)) {
                        (Some(m), Some(n)) => (m.to_string(), n.to_string()),
                        _ => return Err(self.malformed("STACK_GLOBAL of non-strings")),
                    };
                    let g = self.resolve_global(&m, &n)?;
                    self.push(Obj::Global(g));
                }
                b'R' => {
                    let args = self.pop()?;
                    let func = self.pop()?;
                    let o = self.reduce(func, args)?;
                    self.push(o);
                }
                0x81 => {
                    // NEWOBJ: cls.__new__(cls, *args); only OrderedDict is known.
                    let args = self.pop()?;
                    let cls = self.pop()?;
                    let o = self.reduce(cls, args)?;
                    self.push(o);
                }
                b'b' => {
                    let state = self.pop()?;
                    let t = self.top()?;
                    self.build(t, state)?;
                }
                _ => {
                    return Err(PickleError::UnknownOpcode {
                        code,
                        name: opcode_name(code),
                        offset: self.op_at,
                    })
                }
            }
        }
    }

    fn to_value(&self, id: usize, depth: usize, budget: &mut usize) -> Result<Value, PickleError> {
        if depth > MAX_DEPTH {
            return Err(PickleError::TooDeep);
        }
        *budget = budget.checked_sub(1).ok_or(PickleError::TooLarge)?;
        let mut conv = |ids: &[usize]| -> Result<Vec<Value>, PickleError> {
            ids.iter()
                .map(|&i| self.to_value(i, depth + 1, budget))
                .collect()
        };
        Ok(match &self.arena[id] {
            Obj::Leaf(v) => v.clone(),
            Obj::List(v) => Value::List(conv(v)?),
            Obj::Tuple(v) => Value::Tuple(conv(v)?),
            Obj::Set(v) => Value::Set(conv(v)?),
            Obj::Dict(p) => {
                let mut out = Vec::with_capacity(p.len());
                for &(k, v) in p {
                    let kv = conv(&[k, v])?;
                    let mut it = kv.into_iter();
                    out.push((it.next().expect("two"), it.next().expect("two")));
                }
                Value::Dict(out)
            }
            Obj::Global(_) | Obj::Dtype(_) => {
                return Err(PickleError::Malformed {
                    what: "a bare class or numpy dtype object as a value".into(),
                    opcode: "STOP".into(),
                    offset: self.data.len(),
                })
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_protocol4_dict() {
        // pickle.dumps({'a': [1, 2.5, None, True], ('x', 7): b'z'}, protocol=4)
        let p: &[u8] = b"\x80\x04\x95&\x00\x00\x00\x00\x00\x00\x00}\x94(\x8c\x01a\x94]\x94(K\x01G@\x04\x00\x00\x00\x00\x00\x00N\x88e\x8c\x01x\x94K\x07\x86\x94C\x01z\x94u.";
        let v = loads(p).unwrap();
        assert_eq!(
            v.get("a").unwrap(),
            &Value::List(vec![
                Value::Int(1),
                Value::Float(2.5),
                Value::None,
                Value::Bool(true)
            ])
        );
        let k = Value::Tuple(vec![Value::Str("x".into()), Value::Int(7)]);
        assert_eq!(v.get_by(|x| x == &k), Some(&Value::Bytes(b"z".to_vec())));
    }

    #[test]
    fn memoised_container_is_shared() {
        // l = []; m = [l]; l.append(1); (l, m): the list is memoised empty, referenced by BINGET
        // from `m`, and only then filled, so the reference must see the filled list.
        let p: &[u8] = b"\x80\x02]q\x00]h\x00ah\x00K\x01a0\x86.";
        let l = Value::List(vec![Value::Int(1)]);
        assert_eq!(
            loads(p).unwrap(),
            Value::Tuple(vec![l.clone(), Value::List(vec![l])])
        );
    }

    #[test]
    fn numpy_int_and_big_endian_float() {
        // scalar(dtype('i4'), b'\xfe\xff\xff\xff') → -2 ; scalar(dtype('>f8') …) → 1.5
        let mut p: Vec<u8> = b"\x80\x04\x8c\x15numpy.core.multiarray\x8c\x06scalar\x93\x94\x8c\x05numpy\x8c\x05dtype\x93\x94\x8c\x02i4K\x00K\x01\x87R(K\x03\x8c\x01<NNNJ\xff\xff\xff\xffJ\xff\xff\xff\xffK\x00tbC\x04\xfe\xff\xff\xff\x86R".to_vec();
        p.extend_from_slice(b"h\x00h\x01\x8c\x02f8K\x00K\x01\x87R(K\x03\x8c\x01>NNNJ\xff\xff\xff\xffJ\xff\xff\xff\xffK\x00tbC\x08?\xf8\x00\x00\x00\x00\x00\x00\x86R\x86.");
        let v = loads(&p).unwrap();
        assert_eq!(v, Value::Tuple(vec![Value::Int(-2), Value::Float(1.5)]));
    }

    #[test]
    fn unknown_global_and_opcode_are_typed_errors() {
        let p: &[u8] = b"\x80\x04\x8c\x02os\x8c\x06system\x93.";
        match loads(p) {
            Err(PickleError::UnsupportedGlobal { module, name, .. }) => {
                assert_eq!((module.as_str(), name.as_str()), ("os", "system"))
            }
            other => panic!("{other:?}"),
        }
        let e = loads(b"\x80\x04Q.").unwrap_err();
        assert!(e.to_string().contains("BINPERSID") && e.to_string().contains("byte 2"));
        assert!(matches!(
            loads(b"\x80\x04K"),
            Err(PickleError::Truncated { .. })
        ));
        assert!(matches!(
            loads(b"\x80\x04K\x01"),
            Err(PickleError::NoStop { .. })
        ));
        assert!(loads(b".").is_err());
        assert!(loads(b"").is_err());
    }

    #[test]
    fn shared_reference_bomb_is_capped() {
        // L0 = []; L(i+1) = [Li, Li] for 40 levels: 2^40 values once expanded.
        let mut p: Vec<u8> = b"\x80\x02]q\x00".to_vec();
        for i in 0..40u8 {
            p.extend_from_slice(&[b']', b'(', b'h', i, b'h', i, b'e', b'q', i + 1]);
        }
        p.push(b'.');
        assert_eq!(loads(&p), Err(PickleError::TooLarge));
        // A list containing itself.
        let p: &[u8] = b"\x80\x02]q\x00h\x00a.";
        assert_eq!(loads(p), Err(PickleError::TooDeep));
    }
}
