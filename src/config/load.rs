//! Layering: defaults, then the TOML file, then `HOLDFAST_*` variables, then flags. Each value
//! remembers which layer gave it, for `config show` and for error messages.

use std::fmt;
use std::path::{Path, PathBuf};

use figment::providers::{Env, Format, Serialized, Toml};
use figment::value::{Dict, Map};
use figment::{Figment, Metadata, Profile, Provider};
use serde::Serialize;

use super::validate::ConfigError;
use super::{Config, LogFormat, Settings};

/// Prefix of every environment variable that sets a setting.
pub const ENV_PREFIX: &str = "HOLDFAST_";

const DEFAULTS_LABEL: &str = "Holdfast defaults";
const FLAGS_LABEL: &str = "command-line flags";

/// Settings given as command-line flags; only the ones present override anything.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Overrides {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub listen: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_dir: Option<PathBuf>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log_format: Option<LogFormat>,
}

/// Where the layers come from.
#[derive(Debug, Clone, Default)]
pub struct ConfigSources {
    /// A config file named explicitly (`--config` or `HOLDFAST_CONFIG`): it must exist.
    pub explicit_file: Option<PathBuf>,
    /// Config files read when no explicit one is given: the first that exists.
    pub default_files: Vec<PathBuf>,
    pub overrides: Overrides,
}

/// The layer a value came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    Default,
    File(PathBuf),
    Env(String),
    Flag(String),
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::Default => f.write_str("default"),
            Source::File(path) => write!(f, "file {}", path.display()),
            Source::Env(var) => write!(f, "env {var}"),
            Source::Flag(flag) => write!(f, "flag {flag}"),
        }
    }
}

/// A loaded configuration with the provenance of every setting.
#[derive(Debug, Clone)]
pub struct Loaded {
    pub config: Config,
    /// The effective raw settings, before defaults were resolved (for `config show`).
    pub settings: Settings,
    /// The config file that was read, if any.
    pub file: Option<PathBuf>,
    /// For each name in [`Settings::KEYS`], the layer that gave its value.
    pub sources: Vec<(&'static str, Source)>,
}

impl ConfigSources {
    /// Read every layer, merge, and validate.
    pub fn load(&self) -> Result<Loaded, ConfigError> {
        let file = self.file_to_read()?;
        let mut figment = Figment::from(Labelled::new(
            Serialized::defaults(Settings::default()),
            DEFAULTS_LABEL,
        ));
        if let Some(path) = &file {
            figment = figment.merge(Toml::file_exact(path));
        }
        let figment = figment
            .merge(Env::prefixed(ENV_PREFIX).only(Settings::KEYS))
            .merge(Labelled::new(
                Serialized::defaults(self.overrides.clone()),
                FLAGS_LABEL,
            ));

        let sources: Vec<_> = Settings::KEYS
            .iter()
            .map(|key| (*key, source_of(&figment, key)))
            .collect();
        let settings: Settings = figment
            .extract()
            .map_err(|err| ConfigError::from_figment(&err, &sources))?;
        let config =
            Config::from_settings(settings.clone()).map_err(|err| err.with_origin(&sources))?;
        Ok(Loaded {
            config,
            settings,
            file,
            sources,
        })
    }

    fn file_to_read(&self) -> Result<Option<PathBuf>, ConfigError> {
        if let Some(path) = &self.explicit_file {
            if !path.is_file() {
                return Err(ConfigError::File {
                    path: path.clone(),
                    reason: "no such file".to_owned(),
                });
            }
            return Ok(Some(path.clone()));
        }
        Ok(self
            .default_files
            .iter()
            .find(|path| path.is_file())
            .cloned())
    }
}

fn source_of(figment: &Figment, key: &str) -> Source {
    let Some(meta) = figment.find_metadata(key) else {
        return Source::Default;
    };
    if meta.name == DEFAULTS_LABEL {
        Source::Default
    } else if meta.name == FLAGS_LABEL {
        Source::Flag(format!("--{}", key.replace('_', "-")))
    } else if let Some(figment::Source::File(path)) = &meta.source {
        Source::File(path.clone())
    } else {
        Source::Env(env_var_name(key))
    }
}

/// The environment variable that sets `key`.
pub fn env_var_name(key: &str) -> String {
    format!("{ENV_PREFIX}{}", key.to_ascii_uppercase())
}

/// Gives a provider a name of ours, so provenance can tell defaults from flags.
struct Labelled<P> {
    inner: P,
    label: &'static str,
}

impl<P> Labelled<P> {
    fn new(inner: P, label: &'static str) -> Self {
        Self { inner, label }
    }
}

impl<P: Provider> Provider for Labelled<P> {
    fn metadata(&self) -> Metadata {
        Metadata::named(self.label)
    }

    fn data(&self) -> Result<Map<Profile, Dict>, figment::Error> {
        self.inner.data()
    }
}

/// Is `path` the file that was read? (Used by `config show` to print it.)
pub fn describe_file(file: Option<&Path>) -> String {
    file.map_or_else(
        || "none (built-in defaults and environment only)".to_owned(),
        |p| p.display().to_string(),
    )
}
