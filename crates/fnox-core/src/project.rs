//! The library's front door: [`Fnox`] (one environment, one runtime, shared
//! provider clients), [`Project`] (a loaded config with its providers) and
//! [`Sealer`] (an application's own values under a provider).

use std::{
    path::{Path, PathBuf},
    sync::Arc,
};

use crate::{
    config::{self, Config, ConfigError, LoadOptions, SecretDef},
    env::Environment,
    error::Error,
    notice::{self, Notify},
    providers::{Context, Provider, Registry},
    resolve::{self, Plaintext},
    runtime::{Executor, RuntimeFlavor},
    secret::SecretBytes,
    value,
};

/// Secrets with their plaintext, each labelled with where it came from
/// (`None`: no value, no default, no variable of its name).
pub type Resolved = Vec<(SecretDef, Option<Plaintext>)>;

/// Secrets, each with its own outcome: its plaintext, `None`, or why it
/// cannot be had ([`Project::resolve_each`]).
pub type Outcomes = Vec<(SecretDef, resolve::Outcome)>;

/// fnox for one [`Environment`]: loads projects, and runs their provider
/// calls on a runtime of its own. Cheap to clone; clones share everything.
#[derive(Debug, Clone)]
pub struct Fnox {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    ctx: Context,
    executor: Executor,
}

impl Fnox {
    /// fnox for `env`; notices (e.g. "this KMS value is not bound to its
    /// name") are dropped. Fails when no config directory is known
    /// (neither `FNOX_CONFIG_DIR` nor a user config directory).
    pub fn new(env: Environment) -> Result<Self, Error> {
        Self::with_notify(env, notice::ignore())
    }

    /// fnox for `env`, with notices sent to `notify`.
    pub fn with_notify(env: Environment, notify: Notify) -> Result<Self, Error> {
        Self::with_prompter(env, notify, crate::prompt::none())
    }

    /// fnox for `env`, with notices sent to `notify` and a key's questions
    /// (an age plugin's PIN, "touch your key") put to `prompter`.
    pub fn with_prompter(
        env: Environment,
        notify: Notify,
        prompter: crate::prompt::SharedPrompter,
    ) -> Result<Self, Error> {
        let config_dir = env.config_dir().ok_or(ConfigError::NoConfigDir)?;
        let mut ctx = Context::new(Arc::new(env), config_dir, notify);
        ctx.prompter = prompter;
        Ok(Self { inner: Arc::new(Inner { ctx, executor: Executor::default() }) })
    }

    /// This fnox with a runtime of `flavor` (multi-threaded by default),
    /// started when it is first needed. Clones made before keep theirs.
    pub fn with_runtime(self, flavor: RuntimeFlavor) -> Self {
        let ctx = self.inner.ctx.clone();
        Self { inner: Arc::new(Inner { ctx, executor: Executor::new(flavor) }) }
    }

    /// The environment.
    pub fn env(&self) -> &Environment {
        &self.inner.ctx.env
    }

    /// fnox's config directory (global `config.toml`, `local.key`, `age.txt`).
    pub fn config_dir(&self) -> &Path {
        &self.inner.ctx.config_dir
    }

    /// What providers are given: the environment, the config directory, the
    /// notice sink and shared clients.
    pub fn context(&self) -> &Context {
        &self.inner.ctx
    }

    /// How writes wait for another process's lock: `FNOX_LOCK_TIMEOUT`
    /// (default 30 s), with a notice after a second.
    pub fn lock_wait(&self) -> Result<config::write::LockWait, Error> {
        Ok(config::write::LockWait::from_env(self.env(), self.inner.ctx.notify.clone())?)
    }

    /// Loads the config files that apply from the working directory (or
    /// `opts.config_file`) for `opts.profile`. Finding no file at all is
    /// not an error here: [`Project::require_file`] makes it one.
    /// What the files have of jdx/fnox that fnox does not act on is told
    /// in one notice.
    /// A load for one secret ([`LoadOptions::only`]) that fails is done
    /// again whole: an entry it left out may override a broken one that a
    /// file read whole has. When that fails too, the first error is told
    /// (about the secret's own entries, not another's).
    pub fn load(&self, opts: &LoadOptions) -> Result<Project, Error> {
        Ok(self.noticed(self.read(opts)?))
    }

    /// The config for `opts` (see [`Fnox::load`]).
    fn read(&self, opts: &LoadOptions) -> Result<Config, Error> {
        match config::load(self.env(), self.config_dir(), opts) {
            Err(first) if opts.only.is_some() => {
                let whole = LoadOptions { only: None, ..opts.clone() };
                Ok(config::load(self.env(), self.config_dir(), &whole).map_err(|_| first)?)
            }
            read => Ok(read?),
        }
    }

    /// [`Fnox::load`] for a command that reads secret `name` alone (`get`):
    /// the files are read for it alone ([`LoadOptions::only`]), or whole
    /// when that is not enough ([`Config::has_all_for`]).
    pub fn load_one(&self, opts: &LoadOptions, name: &str) -> Result<Project, Error> {
        let only = config::OnlyOne { name: name.to_string(), in_place: false };
        let mut config = self.read(&LoadOptions { only: Some(only), ..opts.clone() })?;
        if !config.has_all_for(name) {
            config = config::load(self.env(), self.config_dir(), opts)?;
        }
        Ok(self.noticed(config))
    }

    /// A project over `config`, after telling what its files have of
    /// jdx/fnox that fnox does not act on (one notice).
    fn noticed(&self, config: Config) -> Project {
        if let Some(notice) = config::jdx_notice(&config) {
            (self.inner.ctx.notify)(notice);
        }
        self.project(config)
    }

    /// A project over a config loaded elsewhere.
    pub fn project(&self, config: Config) -> Project {
        let registry = Registry::new(self.inner.ctx.clone(), config.providers.values().cloned());
        Project { fnox: self.clone(), config: Arc::new(config), registry: Arc::new(registry) }
    }

    /// Runs `fut` to completion, blocking. Safe to call from inside an
    /// async runtime (it then runs on another thread).
    pub fn block_on<F>(&self, fut: F) -> Result<F::Output, Error>
    where
        F: Future + Send,
        F::Output: Send,
    {
        self.inner.executor.block_on(fut)
    }

    /// [`Fnox::block_on`] for work with the providers of `registry` only:
    /// the runtime's IO and timer drivers are started only when one of
    /// them may need them (a key service, or a preset provider).
    pub fn block_on_for<F>(&self, registry: &Registry, fut: F) -> Result<F::Output, Error>
    where
        F: Future + Send,
        F::Output: Send,
    {
        self.inner.executor.block_on_with(registry.needs_drivers(), fut)
    }

    /// Runs `fut` on fnox's runtime and awaits it from any executor.
    pub async fn run<F>(&self, fut: F) -> Result<F::Output, Error>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.inner.executor.run(fut).await
    }
}

/// A loaded config (every file that applies, merged for one profile) and
/// its providers, each built on first use.
#[derive(Debug, Clone)]
pub struct Project {
    fnox: Fnox,
    config: Arc<Config>,
    registry: Arc<Registry>,
}

impl Project {
    /// Runs `fut` on the executor, with the runtime's IO and timer drivers
    /// only when a provider of this project may need them.
    fn block_on<F>(&self, fut: F) -> Result<F::Output, Error>
    where
        F: Future + Send,
        F::Output: Send,
    {
        self.fnox.block_on_for(&self.registry, fut)
    }

    /// The merged config.
    pub fn config(&self) -> &Arc<Config> {
        &self.config
    }

    /// The providers.
    pub fn registry(&self) -> &Arc<Registry> {
        &self.registry
    }

    /// The [`Fnox`] this project was loaded by.
    pub fn fnox(&self) -> &Fnox {
        &self.fnox
    }

    /// Lets go of the project for good (the process ends soon): its
    /// providers are dropped as usual (their keys are zeroized), and a
    /// config of less than 1 MiB of stored values is left for the end of
    /// the process to reclaim: freeing thousands of entries one by one
    /// costs more than a short command's own work. A larger one is freed
    /// at once, its memory given back. The config holds no key and no
    /// plaintext of an encrypted value.
    pub fn release(self) {
        let Project { fnox, mut config, registry } = self;
        drop((fnox, registry));
        // The text of a file whose other entries were left out (a few
        // blocks, not thousands): freed now, its memory serves the next
        // large buffer (`set`'s reading of the file under its lock).
        if let Some(config) = Arc::get_mut(&mut config) {
            drop(std::mem::take(&mut config.left_out));
        }
        let stored: usize =
            config.all_secrets.iter().filter_map(|s| s.value.as_ref()).map(|v| v.len()).sum();
        if stored < 1 << 20 {
            std::mem::forget(config);
        }
    }

    /// An error when no config file was found.
    pub fn require_file(self) -> Result<Self, Error> {
        if self.config.files.is_empty() {
            return Err(ConfigError::NotFound { cwd: self.fnox.env().cwd().to_path_buf() }.into());
        }
        Ok(self)
    }

    /// An error when the active profile is not defined (no loaded file
    /// has `[profiles.NAME]`, there is no `fnox.NAME.toml`): without this
    /// check a mistyped profile sees only the top-level secrets.
    pub fn require_profile(self) -> Result<Self, Error> {
        self.config.require_profile()?;
        Ok(self)
    }

    /// The plaintext of secret `name`: its decrypted value, else its
    /// default (with the secrets it uses, `${NAME}`, filled in), else the
    /// variable of its name in the environment; the part of it that
    /// `json_path` or `line` asks for (see [`Plaintext::is_secret`]). `None`
    /// when it has none of these.
    pub fn get(&self, name: &str) -> Result<Option<Plaintext>, Error> {
        self.block_on(self.get_future(name)?)?
    }

    /// [`Project::get`] for async code.
    pub async fn get_async(&self, name: &str) -> Result<Option<Plaintext>, Error> {
        self.fnox.run(self.get_future(name)?).await?
    }

    fn get_future(
        &self,
        name: &str,
    ) -> Result<impl Future<Output = Result<Option<Plaintext>, Error>> + use<>, Error> {
        let def = self.config.secret(name)?.clone();
        let (config, registry) = (self.config.clone(), self.registry.clone());
        Ok(async move { resolve::resolve(&config, &registry, &def).await })
    }

    /// The secrets named in `only` (all of the profile's when it is empty),
    /// decrypted concurrently, in the order asked (for all: the order of
    /// [`crate::config::Config::secrets`], which is the files' order), each
    /// as [`Project::get`] gives it; the first failure in that order fails
    /// the call. A secret with no value, no default and no variable of its
    /// name comes back `None`.
    pub fn resolve(&self, only: &[String]) -> Result<Resolved, Error> {
        self.block_on(self.resolve_future(only)?)?
    }

    /// [`Project::resolve`] for async code.
    pub async fn resolve_async(&self, only: &[String]) -> Result<Resolved, Error> {
        self.fnox.run(self.resolve_future(only)?).await?
    }

    fn resolve_future(
        &self,
        only: &[String],
    ) -> Result<impl Future<Output = Result<Resolved, Error>> + use<>, Error> {
        Ok(self.resolve_defs_future(self.config.selected(only)?))
    }

    fn resolve_defs_future(
        &self,
        defs: Vec<SecretDef>,
    ) -> impl Future<Output = Result<Resolved, Error>> + use<> {
        let (config, registry) = (self.config.clone(), self.registry.clone());
        resolve::resolve_all(config, registry, defs)
    }

    /// [`Project::resolve`], with each secret's own outcome: a value that
    /// does not decrypt fails that secret (and those whose defaults use it)
    /// only. The call itself fails for a name not defined, or defaults that
    /// refer to undefined secrets or to each other in a cycle.
    pub fn resolve_each(&self, only: &[String]) -> Result<Outcomes, Error> {
        self.resolve_each_defs(self.config.selected(only)?)
    }

    /// [`Project::resolve_each`] for async code.
    pub async fn resolve_each_async(&self, only: &[String]) -> Result<Outcomes, Error> {
        self.resolve_each_defs_async(self.config.selected(only)?).await
    }

    /// [`Project::resolve_each`] for exactly the entries `defs` (e.g. an
    /// [`inject::Selection`](crate::inject::Selection)'s, none when it is
    /// empty).
    pub fn resolve_each_defs(&self, defs: Vec<SecretDef>) -> Result<Outcomes, Error> {
        self.block_on(self.resolve_each_future(defs))?
    }

    /// [`Project::resolve_each_defs`] for async code.
    pub async fn resolve_each_defs_async(&self, defs: Vec<SecretDef>) -> Result<Outcomes, Error> {
        self.fnox.run(self.resolve_each_future(defs)).await?
    }

    fn resolve_each_future(
        &self,
        defs: Vec<SecretDef>,
    ) -> impl Future<Output = Result<Outcomes, Error>> + use<> {
        let (config, registry) = (self.config.clone(), self.registry.clone());
        async move { resolve::resolve_each(&config, &registry, defs).await }
    }

    /// Seals and opens an application's own values with provider
    /// `provider` of this project (the same keys, the same rotation).
    pub fn sealer(&self, provider: &str) -> Result<Sealer, Error> {
        let def = self.config.providers.get(provider).ok_or_else(|| Error::UnknownProvider {
            name: provider.to_string(),
            defined: self.config.provider_names(),
        })?;
        let registry = self.registry.clone();
        let name = provider.to_string();
        let built = self.block_on(async move { registry.get(&name).await })??;
        Ok(Sealer {
            fnox: self.fnox.clone(),
            name: provider.to_string(),
            file: def.at.file.to_path_buf(),
            provider: built,
        })
    }
}

/// An application's own values under one provider: each sealed value is
/// bound to a context string (a field name, a record id) where the
/// provider binds names (`local`, `aws-kms`, `vault-transit`, and every
/// envelope value), so a value copied to another context does not open.
/// Sealed values are per-secret even for a provider with `data_key = true`:
/// a data key lives in a config file's `[data_keys]`, and these values are
/// kept elsewhere.
#[derive(Clone)]
pub struct Sealer {
    fnox: Fnox,
    name: String,
    file: PathBuf,
    provider: Arc<dyn Provider>,
}

impl std::fmt::Debug for Sealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sealer").field("provider", &self.name).finish()
    }
}

impl Sealer {
    /// The stored text (as `fnox.toml` would hold it) of `plaintext`, bound
    /// to `context`.
    pub fn seal(&self, context: &str, plaintext: &SecretBytes) -> Result<String, Error> {
        self.fnox.block_on(self.seal_async_inner(context, plaintext))?
    }

    /// [`Sealer::seal`] for async code.
    pub async fn seal_async(
        &self,
        context: &str,
        plaintext: &SecretBytes,
    ) -> Result<String, Error> {
        let (this, context, plaintext) = (self.clone(), context.to_string(), plaintext.clone());
        self.fnox.run(async move { this.seal_async_inner(&context, &plaintext).await }).await?
    }

    async fn seal_async_inner(
        &self,
        context: &str,
        plaintext: &SecretBytes,
    ) -> Result<String, Error> {
        value::seal(self.provider.as_ref(), context, plaintext, false).await.map_err(|source| {
            Error::Encrypt {
                name: context.to_string(),
                provider: self.name.clone(),
                file: self.file.clone(),
                source,
            }
        })
    }

    /// The plaintext of `stored`, which must have been sealed for `context`.
    pub fn open(&self, context: &str, stored: &str) -> Result<SecretBytes, Error> {
        self.fnox.block_on(self.open_inner(context, stored))?
    }

    /// [`Sealer::open`] for async code.
    pub async fn open_async(&self, context: &str, stored: &str) -> Result<SecretBytes, Error> {
        let (this, context, stored) = (self.clone(), context.to_string(), stored.to_string());
        self.fnox.run(async move { this.open_inner(&context, &stored).await }).await?
    }

    async fn open_inner(&self, context: &str, stored: &str) -> Result<SecretBytes, Error> {
        value::open(self.provider.as_ref(), context, stored).await.map_err(|source| {
            Error::Decrypt {
                name: context.to_string(),
                provider: self.name.clone(),
                at: config::Location::new(self.file.clone(), 0),
                source,
            }
        })
    }
}
