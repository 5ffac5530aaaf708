//! Reading stack.yaml from disk: regular files only, at most `MAX_FILE_BYTES`,
//! so `-f /dev/zero`, a FIFO or a directory is a clear error, never a hang
//! or a huge allocation.

use std::fs::File;
use std::io::Read as _;
use std::path::Path;

use super::error::{ConfigError, Problem, codes};

/// A stack file of 500 alarms is ~60 KB; a megabyte is no stack file.
pub const MAX_FILE_BYTES: u64 = 1 << 20;

/// The text of a stack file. Invalid UTF-8 is a problem with its line.
pub(crate) fn read_stack_file(path: &Path) -> Result<String, ConfigError> {
    let read_error = |source| ConfigError::Read {
        file: path.to_path_buf(),
        source,
    };
    // Checked before opening: opening a FIFO for reading blocks until a
    // writer appears.
    let meta = std::fs::metadata(path).map_err(read_error)?;
    refuse_special(path, &meta.file_type())?;
    let file = File::open(path).map_err(read_error)?;
    // The file could have been swapped between the two calls.
    refuse_special(path, &file.metadata().map_err(read_error)?.file_type())?;
    let mut bytes = Vec::new();
    file.take(MAX_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(read_error)?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(ConfigError::TooLarge {
            file: path.to_path_buf(),
            limit: MAX_FILE_BYTES,
        });
    }
    String::from_utf8(bytes).map_err(|e| {
        let valid = &e.as_bytes()[..e.utf8_error().valid_up_to()];
        let line = valid.iter().filter(|b| **b == b'\n').count() + 1;
        ConfigError::Invalid {
            file: path.to_path_buf(),
            problems: vec![
                Problem::new(codes::NOT_UTF8, "", "the file is not UTF-8 text")
                    .hint("save stack.yaml as UTF-8")
                    .line(Some(line)),
            ],
        }
    })
}

fn refuse_special(path: &Path, kind: &std::fs::FileType) -> Result<(), ConfigError> {
    if kind.is_file() {
        return Ok(());
    }
    let what = if kind.is_dir() {
        "a directory"
    } else if is_fifo(kind) {
        "a FIFO"
    } else {
        "a device or socket"
    };
    Err(ConfigError::NotAFile {
        file: path.to_path_buf(),
        what,
    })
}

#[cfg(unix)]
fn is_fifo(kind: &std::fs::FileType) -> bool {
    use std::os::unix::fs::FileTypeExt as _;
    kind.is_fifo()
}

#[cfg(not(unix))]
fn is_fifo(_: &std::fs::FileType) -> bool {
    false
}
