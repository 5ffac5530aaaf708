//! Builds handler/ for Lambda's `provided.al2023` runtime and packages it as a
//! byte-for-byte deterministic zip, so an unchanged handler has an unchanged
//! CodeSha256 and is never uploaded twice.
//!
//! PUBLIC API:
//!   build_command(handler_dir, arch, target_dir) -> Command   (pure: returns, does not run)
//!   build(handler_dir, arch, target_dir) -> Result<PathBuf, PackageError>
//!   built_binary(target_dir, arch) -> PathBuf
//!   zip_bootstrap(binary) -> Result<Vec<u8>, PackageError>
//!   code_sha256(zip) -> String
//!   from_zip_file(path) -> Result<Package, PackageError>     (`--zip PATH`)
//!   build_package(stack, target_dir) -> Result<Package, PackageError>
//!   Package::architecture(&self) -> Option<Architecture>
//!
//! As in cargo-lambda's compiler modules, the command is built in one function
//! and run in another, so what we ask cargo to do is unit-testable.

use std::ffi::OsString;
use std::fmt;
use std::io::{Cursor, Read as _, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use base64::Engine as _;
use sha2::{Digest as _, Sha256};
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, DateTime, ZipArchive, ZipWriter};

use crate::config::{Architecture, Stack};

/// Cargo profile for the handler (workspace Cargo.toml: opt-level s, LTO,
/// panic=abort, strip).
pub(crate) const PROFILE: &str = "lambda";

/// Lambda runs a custom runtime's executable under this name.
pub(crate) const BOOTSTRAP: &str = "bootstrap";

/// provided.al2023 ships glibc 2.34; zig links against exactly that version
/// when the target carries it as a suffix.
const GLIBC_SUFFIX: &str = ".2.34";

const INSTALL_HINT: &str = "python3 -m venv .venv && .venv/bin/pip install cargo-zigbuild ziglang, \
     then put .venv/bin on PATH (export PATH=\"$PWD/.venv/bin:$PATH\"); \
     or pass --zip PATH with a prebuilt package";

/// A Lambda deployment package, ready to upload.
#[derive(Clone)]
pub(crate) struct Package {
    /// The zip's bytes.
    pub zip: Vec<u8>,
    /// base64 SHA-256 of `zip`, the form Lambda reports as CodeSha256.
    pub sha256: String,
    /// The binary it was built from, or the zip given with `--zip`.
    pub source: PathBuf,
}

// Hand-written so that logging a Package prints its size, not megabytes of bytes.
impl fmt::Debug for Package {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Package")
            .field("zip_len", &self.zip.len())
            .field("sha256", &self.sha256)
            .field("source", &self.source)
            .finish()
    }
}

impl Package {
    /// The CPU the `bootstrap` inside was built for, read from its ELF header;
    /// `None` if it is not a 64-bit ELF for x86_64 or aarch64. Lets the caller
    /// refuse a `--zip` whose binary would fail on the function's architecture
    /// with an "exec format error" only at invoke time.
    pub fn architecture(&self) -> Option<Architecture> {
        let mut archive = ZipArchive::new(Cursor::new(&self.zip)).ok()?;
        let mut entry = archive.by_name(BOOTSTRAP).ok()?;
        let mut header = [0u8; 20];
        entry.read_exact(&mut header).ok()?;
        elf_architecture(&header)
    }
}

/// What went wrong while building or reading a package. Each remedy is
/// data (`hint`), rendered by `report` after the message.
#[derive(Debug, thiserror::Error)]
pub enum PackageError {
    #[error(
        "building the handler for Lambda needs cargo-zigbuild and zig, but {missing} not found \
         (looked on PATH{})",
        looked_in(searched)
    )]
    ToolMissing {
        /// e.g. "cargo-zigbuild was" or "zig (or the Python ziglang package) was".
        missing: String,
        /// Virtualenv folders searched besides PATH.
        searched: Vec<PathBuf>,
    },

    #[error("the Rust target {triple} is not installed")]
    TargetMissing { triple: String },

    #[error("could not start `{command}`: {source}")]
    Spawn {
        command: String,
        source: std::io::Error,
    },

    #[error("building the handler failed ({}): `{command}`", exit(*code))]
    BuildFailed { command: String, code: Option<i32> },

    #[error("the handler build succeeded but {} is missing", path.display())]
    BinaryMissing { path: PathBuf },

    #[error("cannot read {}: {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },

    #[error("{} is not a zip file: {source}", path.display())]
    NotAZip {
        path: PathBuf,
        source: zip::result::ZipError,
    },

    #[error(
        "{} has no file named bootstrap at its top level (it holds: {})",
        path.display(),
        summary(entries)
    )]
    NoBootstrap { path: PathBuf, entries: Vec<String> },

    #[error("bootstrap in {} is not executable (mode {mode:o})", path.display())]
    NotExecutable { path: PathBuf, mode: u32 },

    #[error("cannot write the handler zip: {0}")]
    Zip(#[from] zip::result::ZipError),
}

impl PackageError {
    /// The remedy, as data; rendered once, by `report`.
    pub fn hint(&self) -> Option<String> {
        Some(match self {
            PackageError::ToolMissing { .. } => INSTALL_HINT.to_string(),
            PackageError::TargetMissing { triple } => format!("rustup target add {triple}"),
            PackageError::BuildFailed { .. } => "cargo's errors are printed above".into(),
            PackageError::BinaryMissing { .. } => format!(
                "the handler crate needs a [[bin]] named bootstrap, built with --profile {PROFILE}"
            ),
            PackageError::NotAZip { .. } => {
                "--zip takes a Lambda package: a zip with one executable entry named bootstrap"
                    .into()
            }
            PackageError::NoBootstrap { .. } => "zip the binary as `bootstrap`, e.g. `zip -j handler.zip target/x86_64-unknown-linux-gnu/lambda/bootstrap`".into(),
            PackageError::NotExecutable { .. } => "chmod 755 bootstrap before zipping it; Lambda would fail with \"permission denied\"".into(),
            PackageError::Spawn { .. } | PackageError::Read { .. } | PackageError::Zip(_) => {
                return None;
            }
        })
    }
}

fn looked_in(dirs: &[PathBuf]) -> String {
    dirs.iter().map(|d| format!(", {}", d.display())).collect()
}

fn exit(code: Option<i32>) -> String {
    match code {
        Some(code) => format!("exit code {code}"),
        None => "killed by a signal".to_string(),
    }
}

fn summary(entries: &[String]) -> String {
    const SHOWN: usize = 5;
    match entries.len() {
        0 => "nothing".to_string(),
        n if n <= SHOWN => entries.join(", "),
        n => format!("{}, … {} more", entries[..SHOWN].join(", "), n - SHOWN),
    }
}

/// The Rust target for an architecture, with the glibc version provided.al2023 has.
pub(crate) fn zig_target(arch: Architecture) -> String {
    format!("{}{GLIBC_SUFFIX}", rust_target(arch))
}

/// The plain Rust target triple (what rustup installs and cargo names folders after).
pub(crate) fn rust_target(arch: Architecture) -> &'static str {
    match arch {
        Architecture::X86_64 => "x86_64-unknown-linux-gnu",
        Architecture::Arm64 => "aarch64-unknown-linux-gnu",
    }
}

/// The cargo-zigbuild invocation for the handler. Pure: builds the Command,
/// runs nothing. `target_dir` is the workspace's target folder, so the
/// handler shares one build cache with everything else.
pub(crate) fn build_command(handler_dir: &Path, arch: Architecture, target_dir: &Path) -> Command {
    let mut cmd = Command::new("cargo");
    cmd.arg("zigbuild")
        .arg("--profile")
        .arg(PROFILE)
        // A handler crate outside relayctl's workspace has no `lambda`
        // profile; this defines it (as release) without overriding the
        // tuning a workspace that has one gives it.
        .arg("--config")
        .arg(format!("profile.{PROFILE}.inherits=\"release\""))
        .arg("--target")
        .arg(zig_target(arch))
        .arg("--manifest-path")
        .arg(handler_dir.join("Cargo.toml"))
        .arg("--bin")
        .arg(BOOTSTRAP)
        .env("CARGO_TARGET_DIR", target_dir);
    cmd
}

/// Where `build_command` leaves the binary: cargo-zigbuild drops the glibc
/// suffix from the folder name.
pub(crate) fn built_binary(target_dir: &Path, arch: Architecture) -> PathBuf {
    target_dir
        .join(rust_target(arch))
        .join(PROFILE)
        .join(BOOTSTRAP)
}

/// Builds the handler and returns the path of its `bootstrap` binary.
/// Cargo's progress and errors stream to our stderr as they happen (a cold
/// LTO build takes minutes); its stdout goes to stderr too, since our stdout
/// carries only results (`--output json`).
pub(crate) fn build(
    handler_dir: &Path,
    arch: Architecture,
    target_dir: &Path,
) -> Result<PathBuf, PackageError> {
    let tools = preflight(handler_dir, arch)?;
    let mut cmd = build_command(handler_dir, arch, target_dir);
    if let Some(path) = &tools.path {
        cmd.env("PATH", path);
    }
    cmd.stdout(Stdio::from(std::io::stderr()))
        .stderr(Stdio::inherit());
    let command = describe(&cmd);
    eprintln!(
        "building handler for {} ({}) …",
        arch.as_str(),
        zig_target(arch)
    );
    let started = Instant::now();
    let status = cmd.status().map_err(|source| PackageError::Spawn {
        command: command.clone(),
        source,
    })?;
    if !status.success() {
        return Err(PackageError::BuildFailed {
            command,
            code: status.code(),
        });
    }
    let binary = built_binary(target_dir, arch);
    if !binary.is_file() {
        return Err(PackageError::BinaryMissing { path: binary });
    }
    eprintln!(
        "built {} in {:.1}s",
        binary.display(),
        started.elapsed().as_secs_f64()
    );
    Ok(binary)
}

/// Builds the stack's handler and packages it.
pub(crate) fn build_package(stack: &Stack, target_dir: &Path) -> Result<Package, PackageError> {
    let binary = build(&stack.handler.path, stack.handler.architecture, target_dir)?;
    let bytes = std::fs::read(&binary).map_err(|source| PackageError::Read {
        path: binary.clone(),
        source,
    })?;
    let zip = zip_bootstrap(&bytes)?;
    Ok(Package {
        sha256: code_sha256(&zip),
        zip,
        source: binary,
    })
}

/// Reads a prebuilt package (`--zip PATH`) and checks Lambda can run it: a
/// zip with a top-level `bootstrap` file that is executable.
pub(crate) fn from_zip_file(path: &Path) -> Result<Package, PackageError> {
    let zip = std::fs::read(path).map_err(|source| PackageError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let mut archive =
        ZipArchive::new(Cursor::new(&zip)).map_err(|source| PackageError::NotAZip {
            path: path.to_path_buf(),
            source,
        })?;
    let found = match archive.by_name(BOOTSTRAP) {
        Ok(entry) if entry.is_file() => Some(entry.unix_mode()),
        _ => None,
    };
    let Some(mode) = found else {
        return Err(PackageError::NoBootstrap {
            path: path.to_path_buf(),
            entries: archive.file_names().map(str::to_string).collect(),
        });
    };
    // A zip made without Unix modes (mode None) is left to Lambda: some tools
    // never record one, and refusing them would be a guess.
    if let Some(mode) = mode
        && mode & 0o111 == 0
    {
        return Err(PackageError::NotExecutable {
            path: path.to_path_buf(),
            mode: mode & 0o7777,
        });
    }
    Ok(Package {
        sha256: code_sha256(&zip),
        zip,
        source: path.to_path_buf(),
    })
}

/// Zips `binary` as the single entry `bootstrap`. Every input to the bytes is
/// fixed — timestamp 1980-01-01 00:00 (the zip epoch), mode 0755 regular
/// file, Deflate at level 6, no extra fields, no zip64 — so the same binary
/// always gives the same zip, and hence the same CodeSha256.
pub fn zip_bootstrap(binary: &[u8]) -> Result<Vec<u8>, PackageError> {
    let epoch = DateTime::from_date_and_time(1980, 1, 1, 0, 0, 0)
        .expect("1980-01-01 00:00 is the zip epoch");
    // Set explicitly: the default is "now" when zip's `time` feature is on.
    let options = SimpleFileOptions::default()
        .compression_method(CompressionMethod::Deflated)
        .compression_level(Some(6))
        .last_modified_time(epoch)
        .unix_permissions(0o755)
        .large_file(false);
    let mut writer = ZipWriter::new(Cursor::new(Vec::new()));
    writer.start_file(BOOTSTRAP, options)?;
    writer
        .write_all(binary)
        .map_err(zip::result::ZipError::Io)?;
    Ok(writer.finish()?.into_inner())
}

/// base64 (standard alphabet, padded) of the SHA-256 of `zip`: the form
/// Lambda reports as CodeSha256, so the two compare as strings.
pub fn code_sha256(zip: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(Sha256::digest(zip))
}

/// e_machine of a 64-bit little-endian ELF header.
fn elf_architecture(header: &[u8]) -> Option<Architecture> {
    const EM_X86_64: u16 = 62;
    const EM_AARCH64: u16 = 183;
    if header.len() < 20 || &header[..4] != b"\x7fELF" || header[4] != 2 || header[5] != 1 {
        return None;
    }
    match u16::from_le_bytes([header[18], header[19]]) {
        EM_X86_64 => Some(Architecture::X86_64),
        EM_AARCH64 => Some(Architecture::Arm64),
        _ => None,
    }
}

// ---------------------------------------------------------------------------
// Preflight: find the tools before a long build fails halfway with a cryptic
// "no such subcommand: zigbuild".

struct Tools {
    /// PATH for the build, when a virtualenv folder had to be put in front.
    path: Option<OsString>,
}

fn preflight(handler_dir: &Path, arch: Architecture) -> Result<Tools, PackageError> {
    let venvs = venv_bins(handler_dir);
    let path_dirs: Vec<PathBuf> = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect())
        .unwrap_or_default();

    // cargo-zigbuild: on PATH, else in a virtualenv we then put first on PATH
    // (cargo finds `cargo-zigbuild` through PATH, and cargo-zigbuild finds zig
    // or `python3 -m ziglang` the same way).
    let mut dirs = path_dirs.clone();
    let mut prefix = None;
    if find_in("cargo-zigbuild", &path_dirs).is_none() {
        let Some(venv) = venvs
            .iter()
            .find(|d| is_executable(&d.join("cargo-zigbuild")))
        else {
            return Err(PackageError::ToolMissing {
                missing: "cargo-zigbuild was".to_string(),
                searched: venvs,
            });
        };
        dirs.insert(0, venv.clone());
        prefix = Some(venv.clone());
    }
    // A venv holding ziglang is useful even when cargo-zigbuild came from PATH.
    if prefix.is_none()
        && let Some(venv) = venvs.first()
    {
        dirs.push(venv.clone());
    }
    let path = std::env::join_paths(&dirs).ok();

    let zig_ok = std::env::var_os("CARGO_ZIGBUILD_ZIG_PATH").is_some()
        || find_in("zig", &dirs).is_some()
        || python_ziglang(path.as_deref());
    if !zig_ok {
        return Err(PackageError::ToolMissing {
            missing: "zig (or the Python ziglang package) was".to_string(),
            searched: venvs,
        });
    }

    check_target_installed(handler_dir, arch)?;
    let changed = prefix.is_some() || dirs.len() != path_dirs.len();
    Ok(Tools {
        path: if changed { path } else { None },
    })
}

/// `bin` folders of the virtualenvs the project may have installed the tools
/// into: `$VIRTUAL_ENV`, then `.venv` in the handler's folder or any folder
/// above it (the repo root), then in the current directory.
fn venv_bins(handler_dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    if let Some(venv) = std::env::var_os("VIRTUAL_ENV") {
        out.push(PathBuf::from(venv).join("bin"));
    }
    let start = std::fs::canonicalize(handler_dir).unwrap_or_else(|_| handler_dir.to_path_buf());
    for dir in start.ancestors() {
        out.push(dir.join(".venv").join("bin"));
    }
    if let Ok(cwd) = std::env::current_dir() {
        out.push(cwd.join(".venv").join("bin"));
    }
    let mut seen = std::collections::HashSet::new();
    out.retain(|d| d.is_dir() && seen.insert(d.clone()));
    out
}

fn find_in(program: &str, dirs: &[PathBuf]) -> Option<PathBuf> {
    dirs.iter()
        .map(|d| d.join(program))
        .find(|p| is_executable(p))
}

fn is_executable(path: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        path.metadata()
            .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
    }
    #[cfg(not(unix))]
    {
        path.with_extension("exe").is_file() || path.is_file()
    }
}

/// The `ziglang` wheel ships zig inside Python; cargo-zigbuild runs it as
/// `python3 -m ziglang`.
fn python_ziglang(path: Option<&std::ffi::OsStr>) -> bool {
    let mut cmd = Command::new("python3");
    cmd.args(["-m", "ziglang", "version"])
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    if let Some(path) = path {
        cmd.env("PATH", path);
    }
    cmd.status().is_ok_and(|s| s.success())
}

/// Without the target's standard library the build fails late with "can't
/// find crate for `core`". Checked with rustup in the handler's folder (a
/// rust-toolchain file there picks the toolchain); skipped without rustup.
fn check_target_installed(handler_dir: &Path, arch: Architecture) -> Result<(), PackageError> {
    let triple = rust_target(arch);
    let output = Command::new("rustup")
        .args(["target", "list", "--installed"])
        .current_dir(handler_dir)
        .stderr(Stdio::null())
        .output();
    match output {
        Ok(out) if out.status.success() => {
            let installed = String::from_utf8_lossy(&out.stdout);
            if installed.lines().any(|l| l.trim() == triple) {
                Ok(())
            } else {
                Err(PackageError::TargetMissing {
                    triple: triple.to_string(),
                })
            }
        }
        _ => Ok(()),
    }
}

/// The command as a shell would show it, for messages. Env vars other than
/// CARGO_TARGET_DIR are left out (PATH is long and says little).
fn describe(cmd: &Command) -> String {
    let mut parts: Vec<String> = cmd
        .get_envs()
        .filter(|(k, _)| *k == "CARGO_TARGET_DIR")
        .filter_map(|(k, v)| v.map(|v| format!("{}={}", k.to_string_lossy(), v.to_string_lossy())))
        .collect();
    parts.push(cmd.get_program().to_string_lossy().into_owned());
    parts.extend(cmd.get_args().map(|a| a.to_string_lossy().into_owned()));
    parts.join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::OsStr;

    fn args(cmd: &Command) -> Vec<String> {
        cmd.get_args()
            .map(|a| a.to_string_lossy().into_owned())
            .collect()
    }

    #[test]
    fn build_command_for_x86_64() {
        let cmd = build_command(
            Path::new("/repo/handler"),
            Architecture::X86_64,
            Path::new("/repo/target"),
        );
        assert_eq!(cmd.get_program(), "cargo");
        assert_eq!(
            args(&cmd),
            [
                "zigbuild",
                "--profile",
                "lambda",
                "--config",
                "profile.lambda.inherits=\"release\"",
                "--target",
                "x86_64-unknown-linux-gnu.2.34",
                "--manifest-path",
                "/repo/handler/Cargo.toml",
                "--bin",
                "bootstrap",
            ]
        );
        let envs: Vec<(&OsStr, Option<&OsStr>)> = cmd.get_envs().collect();
        assert_eq!(
            envs,
            [(
                OsStr::new("CARGO_TARGET_DIR"),
                Some(OsStr::new("/repo/target"))
            )]
        );
        assert_eq!(
            built_binary(Path::new("/repo/target"), Architecture::X86_64),
            Path::new("/repo/target/x86_64-unknown-linux-gnu/lambda/bootstrap")
        );
        assert_eq!(
            describe(&cmd),
            "CARGO_TARGET_DIR=/repo/target cargo zigbuild --profile lambda \
             --config profile.lambda.inherits=\"release\" --target \
             x86_64-unknown-linux-gnu.2.34 --manifest-path /repo/handler/Cargo.toml --bin bootstrap"
        );
    }

    #[test]
    fn build_command_for_arm64() {
        let cmd = build_command(Path::new("h"), Architecture::Arm64, Path::new("t"));
        let a = args(&cmd);
        assert_eq!(a[5..7], ["--target", "aarch64-unknown-linux-gnu.2.34"]);
        assert_eq!(
            built_binary(Path::new("t"), Architecture::Arm64),
            Path::new("t/aarch64-unknown-linux-gnu/lambda/bootstrap")
        );
    }

    #[test]
    fn zip_is_deterministic() {
        let binary: Vec<u8> = (0..200_000u32).map(|i| (i * 7 % 251) as u8).collect();
        let a = zip_bootstrap(&binary).unwrap();
        let b = zip_bootstrap(&binary).unwrap();
        assert_eq!(a, b, "same input, same bytes");
        assert_eq!(code_sha256(&a), code_sha256(&b));
        let mut other = binary.clone();
        other[1000] ^= 1;
        assert_ne!(
            code_sha256(&zip_bootstrap(&other).unwrap()),
            code_sha256(&a)
        );
    }

    #[test]
    fn zip_entry_reads_back_as_bootstrap_0755_at_the_epoch() {
        let binary = b"\x7fELF\x02\x01 not really a binary".to_vec();
        let zip = zip_bootstrap(&binary).unwrap();
        let mut archive = ZipArchive::new(Cursor::new(&zip)).unwrap();
        assert_eq!(archive.len(), 1);
        let mut entry = archive.by_index(0).unwrap();
        assert_eq!(entry.name(), "bootstrap");
        assert!(entry.is_file());
        assert_eq!(entry.unix_mode(), Some(0o100755), "regular file, rwxr-xr-x");
        assert_eq!(entry.compression(), CompressionMethod::Deflated);
        assert!(
            entry.extra_data().is_none_or(|d| d.is_empty()),
            "no extra fields"
        );
        let t = entry.last_modified().unwrap();
        assert_eq!(
            (
                t.year(),
                t.month(),
                t.day(),
                t.hour(),
                t.minute(),
                t.second()
            ),
            (1980, 1, 1, 0, 0, 0)
        );
        let mut back = Vec::new();
        entry.read_to_end(&mut back).unwrap();
        assert_eq!(back, binary);
    }

    #[test]
    fn code_sha256_is_base64_of_sha256() {
        // SHA-256("abc") = ba7816bf…15ad (FIPS 180-2), base64-encoded.
        assert_eq!(
            code_sha256(b"abc"),
            "ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0="
        );
        assert_eq!(
            code_sha256(b""),
            "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="
        );
    }

    fn temp_file(name: &str, bytes: &[u8]) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("relayctl-package-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(name);
        std::fs::write(&path, bytes).unwrap();
        path
    }

    fn zip_with(name: &str, mode: u32) -> Vec<u8> {
        let mut w = ZipWriter::new(Cursor::new(Vec::new()));
        w.start_file(name, SimpleFileOptions::default().unix_permissions(mode))
            .unwrap();
        w.write_all(b"x").unwrap();
        w.finish().unwrap().into_inner()
    }

    #[test]
    fn from_zip_file_reads_a_good_package() {
        let zip = zip_bootstrap(b"\x7fELF").unwrap();
        let path = temp_file("good.zip", &zip);
        let package = from_zip_file(&path).unwrap();
        assert_eq!(package.zip, zip);
        assert_eq!(package.sha256, code_sha256(&zip));
        assert_eq!(package.source, path);
    }

    #[test]
    fn from_zip_file_errors() {
        let missing = std::env::temp_dir().join("relayctl-no-such.zip");
        assert!(matches!(
            from_zip_file(&missing),
            Err(PackageError::Read { .. })
        ));

        let not_zip = temp_file("not.zip", b"#!/bin/sh\necho hi\n");
        let err = from_zip_file(&not_zip).unwrap_err();
        assert!(matches!(err, PackageError::NotAZip { .. }), "{err}");
        assert!(err.to_string().contains("is not a zip file"));

        let wrong = temp_file("wrong.zip", &zip_with("handler/bootstrap", 0o755));
        let err = from_zip_file(&wrong).unwrap_err();
        assert!(matches!(err, PackageError::NoBootstrap { .. }), "{err}");
        assert!(
            err.to_string().contains("it holds: handler/bootstrap"),
            "{err}"
        );

        let plain = temp_file("plain.zip", &zip_with("bootstrap", 0o644));
        let err = from_zip_file(&plain).unwrap_err();
        assert!(
            matches!(err, PackageError::NotExecutable { mode: 0o644, .. }),
            "{err}"
        );
    }

    #[test]
    fn architecture_from_the_elf_header() {
        let mut elf = vec![0u8; 64];
        elf[..6].copy_from_slice(b"\x7fELF\x02\x01");
        elf[18] = 183;
        let package = Package {
            zip: zip_bootstrap(&elf).unwrap(),
            sha256: String::new(),
            source: PathBuf::new(),
        };
        assert_eq!(package.architecture(), Some(Architecture::Arm64));
        elf[18] = 62;
        assert_eq!(elf_architecture(&elf), Some(Architecture::X86_64));
        assert_eq!(elf_architecture(b"#!/bin/sh"), None);
    }

    #[cfg(unix)]
    #[test]
    fn tools_are_found_in_a_venv_above_the_handler() {
        use std::os::unix::fs::PermissionsExt as _;
        let root = std::env::temp_dir().join(format!("relayctl-venv-{}", std::process::id()));
        let bin = root.join(".venv/bin");
        let handler = root.join("handler");
        std::fs::create_dir_all(&bin).unwrap();
        std::fs::create_dir_all(&handler).unwrap();
        let tool = bin.join("cargo-zigbuild");
        std::fs::write(&tool, "#!/bin/sh\n").unwrap();
        std::fs::write(bin.join("zig"), "not executable").unwrap();
        std::fs::set_permissions(&tool, std::fs::Permissions::from_mode(0o755)).unwrap();

        let venvs = venv_bins(&handler);
        let bin = std::fs::canonicalize(&bin).unwrap();
        assert!(venvs.contains(&bin), "{venvs:?}");
        assert_eq!(
            // Only this venv: $VIRTUAL_ENV or ./.venv may hold the real tool.
            find_in("cargo-zigbuild", std::slice::from_ref(&bin)),
            Some(bin.join("cargo-zigbuild"))
        );
        assert_eq!(find_in("zig", &[bin]), None, "not executable");
        std::fs::remove_dir_all(&root).unwrap();
    }

    /// The real build, end to end (minutes on a cold cache; needs
    /// cargo-zigbuild and zig on PATH or in a .venv):
    /// `cargo test --lib package -- --ignored`.
    #[test]
    #[ignore = "runs cargo zigbuild on handler/ (minutes)"]
    fn builds_the_repo_handler() {
        let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
        let stack = Stack::load(&repo.join("stack.yaml")).unwrap();
        let package = build_package(&stack, &repo.join("target")).unwrap();
        assert_eq!(package.architecture(), Some(Architecture::X86_64));
        assert_eq!(
            package.source,
            repo.join("target/x86_64-unknown-linux-gnu/lambda/bootstrap")
        );
        let again = zip_bootstrap(&std::fs::read(&package.source).unwrap()).unwrap();
        assert_eq!(code_sha256(&again), package.sha256);
    }

    #[test]
    fn tool_missing_says_how_to_install_both() {
        let err = PackageError::ToolMissing {
            missing: "cargo-zigbuild was".into(),
            searched: vec![],
        };
        // What people see: the message, then the hint.
        let text = crate::report::render(&err);
        assert!(
            text.contains("python3 -m venv .venv && .venv/bin/pip install cargo-zigbuild ziglang"),
            "{text}"
        );
        assert!(text.contains(".venv/bin on PATH"), "{text}");
        let err = PackageError::TargetMissing {
            triple: "aarch64-unknown-linux-gnu".into(),
        };
        assert!(
            crate::report::render(&err)
                .ends_with("\n  hint: rustup target add aarch64-unknown-linux-gnu\n")
        );
    }
}
