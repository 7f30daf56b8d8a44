//! Every Redis 7 function library of the program, registered at link time: list them, load them
//! at start-up, and find the ones a server lacks or runs another version of.
//!
//! `#[derive(RedisFunction)]` registers the library of each struct it is applied to with the
//! [`inventory`](https://docs.rs/inventory) crate, so [`registered_libraries()`] knows every
//! library linked into the program without a list to maintain.
//!
//! ```no_run
//! use redis_script::libraries::{self, LibraryPolicy};
//!
//! # fn main() -> Result<(), redis_script::Error> {
//! let client = redis::Client::open("redis://127.0.0.1/")?;
//! let mut connection = client.get_connection()?;
//! for report in libraries::load_libraries(&mut connection, LibraryPolicy::Report)? {
//!     if !report.is_current() {
//!         eprintln!("{}: {:?}", report.library.name, report.state);
//!     }
//! }
//! # Ok(()) }
//! ```
//!
//! # Stale libraries
//!
//! Unlike a script, which `EVALSHA` names by the SHA1 of its code, a function is called by
//! name: a server that has a library of that name from an older deploy silently runs the old
//! code. [`stale_libraries`] finds those (`FUNCTION LIST LIBRARYNAME <name> WITHCODE`, compared
//! with the compiled code), and [`load_libraries`] loads the missing libraries and, depending on
//! its [`LibraryPolicy`], reports or replaces the stale ones.
//!
//! The default policy is [`LibraryPolicy::Report`]: during a rolling deploy old and new
//! instances run side by side, and an old instance that restarts would, with `Replace`, put the
//! old code back over the new, and the new one would put it back again at its next start: the
//! code on the server would depend on which instance started last. With `Report` nothing is
//! ever downgraded; replace a library once, from the deploy step that knows the new version
//! is the one to keep (or from an instance that knows it is the newest), with
//! [`LibraryPolicy::Replace`].
//!
//! Invocations never replace a library: a call that finds no function loads the library only
//! when it is missing (see [`Function::invoke`](crate::Function::invoke)).
//!
//! Two registered libraries with the same name and different code (two crates, or two
//! versions of one crate, in one program) are a mistake in the program: [`load_libraries`]
//! reports them as [`LibraryState::Conflict`] and loads neither.
//!
//! # Redis Cluster
//!
//! A library is loaded on every primary: replicas receive it by replication (and keep it when
//! promoted), and refuse `FUNCTION LOAD` themselves. [`load_libraries_cluster`] does that, node
//! by node, and reports each primary.

use redis::{Cmd, RedisError, RedisResult, Value};

use crate::fcall::{is_library_existing, load_command};
use crate::invoke::server_error_as_err;
use crate::{Error, SourceSegment};

/// One function library, as registered by `#[derive(RedisFunction)]` (once per struct: several
/// functions of one library register it several times, and are listed once).
///
/// ```
/// for library in redis_script::registered_libraries() {
///     println!("{} ({}), {} bytes", library.name, library.path, library.source.len());
/// }
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RegisteredLibrary {
    /// The library's name, from its `#!lua name=...` line.
    pub name: &'static str,
    /// The library file, as written in the derive's attribute.
    pub path: &'static str,
    /// The library's code, exactly as sent with `FUNCTION LOAD`.
    pub source: &'static str,
    /// For a library that includes other files (`--- @include`), where each line of `source`
    /// is written; empty for a library of one file.
    pub source_map: &'static [SourceSegment],
}

inventory::collect!(RegisteredLibrary);

/// The source map of the registered library with this path and code; empty when it has none.
/// For error messages: a linear search.
pub(crate) fn source_map_of(path: &str, source: &str) -> &'static [SourceSegment] {
    inventory::iter::<RegisteredLibrary>
        .into_iter()
        .find(|library| library.path == path && library.source == source)
        .map_or(&[], |library| library.source_map)
}

/// Every registered library, each distinct name and code once, sorted by name then path. Two
/// entries with the same name are a [conflict](LibraryState::Conflict).
///
/// ```
/// # include!("../doc/transfer_function.rs");
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let listed = redis_script::registered_libraries();
/// assert!(listed.iter().any(|library| library.name == "doc_bank"));
/// # Ok(()) }
/// ```
pub fn registered_libraries() -> Vec<&'static RegisteredLibrary> {
    let mut libraries: Vec<&'static RegisteredLibrary> =
        inventory::iter::<RegisteredLibrary>.into_iter().collect();
    libraries.sort_by(|a, b| (a.name, a.path).cmp(&(b.name, b.path)));
    let mut distinct: Vec<&'static RegisteredLibrary> = Vec::with_capacity(libraries.len());
    for library in libraries {
        let seen = distinct
            .iter()
            .any(|other| other.name == library.name && other.source == library.source);
        if !seen {
            distinct.push(library);
        }
    }
    distinct
}

/// What [`load_libraries`] does with a library whose code on the server differs from the
/// compiled code. See [Stale libraries](self#stale-libraries) for why the default is
/// `Report`.
///
/// ```
/// use redis_script::libraries::LibraryPolicy;
///
/// assert_eq!(LibraryPolicy::default(), LibraryPolicy::Report);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum LibraryPolicy {
    /// Leave it, and report it as [`LibraryState::Stale`] with the server's code.
    #[default]
    Report,
    /// Replace it with the compiled code (`FUNCTION LOAD REPLACE`), and report it as
    /// [`LibraryState::Replaced`] with the code it had.
    Replace,
}

/// What [`load_libraries`] found and did for one library.
///
/// ```
/// use redis_script::libraries::LibraryState;
///
/// fn describe(state: &LibraryState) -> &'static str {
///     match state {
///         LibraryState::UpToDate | LibraryState::Loaded => "running the compiled code",
///         LibraryState::Replaced { .. } => "running the compiled code, was another",
///         LibraryState::Stale { .. } => "running other code",
///         LibraryState::Conflict { .. } => "two libraries of that name in the program",
///         LibraryState::Failed(_) => "could not be checked or loaded",
///     }
/// }
/// assert_eq!(describe(&LibraryState::Loaded), "running the compiled code");
/// ```
#[derive(Debug)]
pub enum LibraryState {
    /// The server had the library, with the compiled code.
    UpToDate,
    /// The server lacked the library, which was loaded.
    Loaded,
    /// The server has the library with other code, left in place
    /// ([`LibraryPolicy::Report`]): calls run that code.
    Stale {
        /// The library's code on the server.
        loaded_code: String,
    },
    /// The server had the library with other code, replaced ([`LibraryPolicy::Replace`]).
    Replaced {
        /// The code the server had.
        previous_code: String,
    },
    /// Another registered library has the same name and other code: neither was loaded or
    /// replaced, as the program cannot run both.
    Conflict {
        /// The other registered libraries of that name.
        others: Vec<&'static RegisteredLibrary>,
    },
    /// The server could not be asked, or refused to load the library.
    Failed(RedisError),
}

/// One library in the answer of [`load_libraries`].
///
/// ```
/// use redis_script::libraries::{LibraryReport, LibraryState};
///
/// fn stale(reports: &[LibraryReport]) -> Vec<&'static str> {
///     reports
///         .iter()
///         .filter(|report| matches!(report.state, LibraryState::Stale { .. }))
///         .map(|report| report.library.name)
///         .collect()
/// }
/// # assert!(stale(&[]).is_empty());
/// ```
#[derive(Debug)]
pub struct LibraryReport {
    /// The registered library.
    pub library: &'static RegisteredLibrary,
    /// What was found and done.
    pub state: LibraryState,
}

impl LibraryReport {
    /// Whether the server now runs the compiled code of the library: up to date, loaded or
    /// replaced.
    ///
    /// ```
    /// # include!("../doc/transfer_function.rs");
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use redis_script::libraries::{LibraryReport, LibraryState};
    ///
    /// let library = redis_script::registered_libraries()[0];
    /// assert!(LibraryReport { library, state: LibraryState::Loaded }.is_current());
    /// let stale = LibraryState::Stale { loaded_code: "#!lua name=doc_bank\n".into() };
    /// assert!(!LibraryReport { library, state: stale }.is_current());
    /// # Ok(()) }
    /// ```
    pub fn is_current(&self) -> bool {
        matches!(
            self.state,
            LibraryState::UpToDate | LibraryState::Loaded | LibraryState::Replaced { .. }
        )
    }
}

/// A library the server has with other code than the compiled one; see [`stale_libraries`].
///
/// ```
/// use redis_script::libraries::StaleLibrary;
///
/// fn report(stale: &[StaleLibrary]) {
///     for library in stale {
///         eprintln!(
///             "{} ({}) differs on the server: {} bytes there, {} compiled",
///             library.library.name,
///             library.library.path,
///             library.loaded_code.len(),
///             library.library.source.len()
///         );
///     }
/// }
/// # report(&[]);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StaleLibrary {
    /// The registered library.
    pub library: &'static RegisteredLibrary,
    /// Its code on the server.
    pub loaded_code: String,
}

/// How many times a library is listed before giving up, when each load finds it loaded by
/// someone else and each listing finds it gone again (a `FUNCTION FLUSH` loop).
const LIST_ATTEMPTS: u8 = 3;

/// Where one library is in [`Loading`].
#[derive(Debug)]
enum Step {
    List { attempt: u8 },
    Load { attempt: u8 },
    Replace { previous_code: String },
    Done(LibraryState),
}

/// Loading every registered library, one batch of commands at a time (a batch has one command
/// per library still in progress), so that the same steps serve every kind of connection.
struct Loading {
    policy: LibraryPolicy,
    libraries: Vec<(&'static RegisteredLibrary, Step)>,
}

impl Loading {
    fn new(policy: LibraryPolicy) -> Self {
        let registered = registered_libraries();
        let libraries = registered
            .iter()
            .map(|&library| {
                let others: Vec<&'static RegisteredLibrary> = registered
                    .iter()
                    .copied()
                    .filter(|other| other.name == library.name && other.source != library.source)
                    .collect();
                let step = if others.is_empty() {
                    Step::List { attempt: 0 }
                } else {
                    Step::Done(LibraryState::Conflict { others })
                };
                (library, step)
            })
            .collect();
        Loading { policy, libraries }
    }

    /// The commands to send now, in order; none when every library is done.
    fn commands(&self) -> Vec<Cmd> {
        self.libraries
            .iter()
            .filter_map(|(library, step)| match step {
                Step::List { .. } => Some(list_command(library.name)),
                Step::Load { .. } => Some(load_command(library.source, false)),
                Step::Replace { .. } => Some(load_command(library.source, true)),
                Step::Done(_) => None,
            })
            .collect()
    }

    /// Moves each library in progress on by its reply, in the order of [`commands`](Self::commands).
    fn feed(&mut self, replies: Vec<RedisResult<Value>>) {
        let mut replies = replies.into_iter();
        let policy = self.policy;
        for (library, step) in &mut self.libraries {
            if matches!(step, Step::Done(_)) {
                continue;
            }
            let reply = replies.next().unwrap_or_else(|| {
                Err(client_error(
                    "fewer replies than commands",
                    format!("no reply for library {}", library.name),
                ))
            });
            let current = std::mem::replace(step, Step::List { attempt: 0 });
            *step = next_step(library, current, reply, policy);
        }
    }

    fn finish(self) -> Vec<LibraryReport> {
        self.libraries
            .into_iter()
            .map(|(library, step)| LibraryReport {
                library,
                state: match step {
                    Step::Done(state) => state,
                    // Unreachable once `commands` is empty; reported rather than assumed.
                    other => LibraryState::Failed(client_error(
                        "library left in progress",
                        format!("{}: {other:?}", library.name),
                    )),
                },
            })
            .collect()
    }
}

fn next_step(
    library: &'static RegisteredLibrary,
    step: Step,
    reply: RedisResult<Value>,
    policy: LibraryPolicy,
) -> Step {
    let reply = server_error_as_err(reply);
    match step {
        Step::List { attempt } => match reply.and_then(|value| loaded_code(value, library.name)) {
            Err(error) => Step::Done(LibraryState::Failed(error)),
            Ok(None) if attempt + 1 < LIST_ATTEMPTS => Step::Load { attempt },
            Ok(None) => Step::Done(LibraryState::Failed(client_error(
                "the library kept disappearing",
                format!(
                    "{}: listed {LIST_ATTEMPTS} times, missing each time after another \
                     client had loaded it",
                    library.name
                ),
            ))),
            Ok(Some(code)) if code == library.source => Step::Done(LibraryState::UpToDate),
            Ok(Some(code)) => match policy {
                LibraryPolicy::Report => Step::Done(LibraryState::Stale { loaded_code: code }),
                LibraryPolicy::Replace => Step::Replace {
                    previous_code: code,
                },
            },
        },
        Step::Load { attempt } => match reply {
            Ok(_) => Step::Done(LibraryState::Loaded),
            // Another client loaded it in the meantime, maybe with other code: look again.
            Err(error) if is_library_existing(&error) => Step::List {
                attempt: attempt + 1,
            },
            Err(error) => Step::Done(LibraryState::Failed(error)),
        },
        Step::Replace { previous_code } => match reply {
            Ok(_) => Step::Done(LibraryState::Replaced { previous_code }),
            Err(error) => Step::Done(LibraryState::Failed(error)),
        },
        done @ Step::Done(_) => done,
    }
}

/// `FUNCTION LIST LIBRARYNAME name WITHCODE`. The name is a glob pattern to Redis; library
/// names hold only letters, digits and `_`, so it matches that library alone (and the reply is
/// filtered by exact name all the same).
fn list_command(name: &str) -> Cmd {
    let mut command = redis::cmd("FUNCTION");
    command
        .arg("LIST")
        .arg("LIBRARYNAME")
        .arg(name)
        .arg("WITHCODE");
    command
}

/// The code of library `name` in a `FUNCTION LIST ... WITHCODE` reply, `None` if it is not
/// listed. Each library is a map (RESP3) or a flat array of name/value pairs (RESP2) with
/// `library_name` and `library_code` among them.
fn loaded_code(reply: Value, name: &str) -> RedisResult<Option<String>> {
    let Value::Array(libraries) = reply else {
        return Err(client_error(
            "unexpected FUNCTION LIST reply",
            format!("expected an array, got {reply:?}"),
        ));
    };
    for library in libraries {
        let pairs: Vec<(Value, Value)> = match library {
            Value::Map(pairs) => pairs,
            Value::Array(items) => {
                let mut items = items.into_iter();
                let mut pairs = Vec::new();
                while let (Some(key), Some(value)) = (items.next(), items.next()) {
                    pairs.push((key, value));
                }
                pairs
            }
            other => {
                return Err(client_error(
                    "unexpected FUNCTION LIST reply",
                    format!("expected a library as a map or array, got {other:?}"),
                ));
            }
        };
        let field = |wanted: &str| {
            pairs
                .iter()
                .find(|(key, _)| text(key).as_deref() == Some(wanted))
                .and_then(|(_, value)| text(value))
        };
        if field("library_name").as_deref() == Some(name) {
            return field("library_code").map(Some).ok_or_else(|| {
                client_error(
                    "FUNCTION LIST without the code",
                    format!("library {name} is listed without library_code"),
                )
            });
        }
    }
    Ok(None)
}

fn text(value: &Value) -> Option<String> {
    match value {
        Value::BulkString(bytes) => String::from_utf8(bytes.clone()).ok(),
        Value::SimpleString(text) => Some(text.clone()),
        Value::VerbatimString { text, .. } => Some(text.clone()),
        _ => None,
    }
}

fn client_error(what: &'static str, detail: String) -> RedisError {
    RedisError::from((redis::ErrorKind::Client, what, detail))
}

/// Sends a batch as one pipeline and splits its replies.
fn send_batch<C>(connection: &mut C, commands: &[Cmd]) -> Result<Vec<RedisResult<Value>>, Error>
where
    C: redis::ConnectionLike + ?Sized,
{
    let pipeline = batch_pipeline(commands);
    let values =
        connection.req_packed_commands(&pipeline.get_packed_pipeline(), 0, commands.len())?;
    Ok(values.into_iter().map(Ok).collect())
}

async fn send_batch_async<C>(
    connection: &mut C,
    commands: &[Cmd],
) -> Result<Vec<RedisResult<Value>>, Error>
where
    C: redis::aio::ConnectionLike,
{
    let pipeline = batch_pipeline(commands);
    let values = connection
        .req_packed_commands(&pipeline, 0, commands.len())
        .await?;
    Ok(values.into_iter().map(Ok).collect())
}

fn batch_pipeline(commands: &[Cmd]) -> redis::Pipeline {
    let mut pipeline = redis::Pipeline::with_capacity(commands.len());
    for command in commands {
        pipeline.add_command(command.clone());
    }
    pipeline
}

/// Loads every registered library the server lacks (`FUNCTION LOAD`), and reports or replaces
/// (`FUNCTION LOAD REPLACE`) each one it has with other code, as `policy` says; returns a
/// report per library, in [`registered_libraries()`] order.
///
/// Each round is one pipeline: first `FUNCTION LIST LIBRARYNAME <name> WITHCODE` for every
/// library, then the loads; a load that finds the library loaded by another client in the
/// meantime lists it again. Fails as a whole only when the server cannot be reached; a library
/// the server refuses is reported as [`LibraryState::Failed`].
///
/// For a standalone server or a replica set's primary. On a cluster use
/// [`load_libraries_cluster`] (the `redis` crate sends `FUNCTION LIST` to one random node of a
/// cluster connection).
///
/// ```
/// # include!("../doc/transfer_function.rs");
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use redis_script::libraries::{self, LibraryPolicy, LibraryState};
///
/// # let server = throwaway_redis::RedisServer::start()?;
/// # let mut connection = server.connection()?;
/// let reports = libraries::load_libraries(&mut connection, LibraryPolicy::default())?;
/// let bank = reports.iter().find(|report| report.library.name == "doc_bank").unwrap();
/// assert!(matches!(bank.state, LibraryState::Loaded));
/// // Loading again finds it up to date.
/// let again = libraries::load_libraries(&mut connection, LibraryPolicy::default())?;
/// assert!(again.iter().all(|report| matches!(report.state, LibraryState::UpToDate)));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// # }
/// ```
pub fn load_libraries<C>(
    connection: &mut C,
    policy: LibraryPolicy,
) -> Result<Vec<LibraryReport>, Error>
where
    C: redis::ConnectionLike + ?Sized,
{
    let mut loading = Loading::new(policy);
    loop {
        let commands = loading.commands();
        if commands.is_empty() {
            return Ok(loading.finish());
        }
        let replies = send_batch(connection, &commands)?;
        loading.feed(replies);
    }
}

/// The asynchronous [`load_libraries`].
///
/// ```
/// # include!("../doc/transfer_function.rs");
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use redis_script::libraries::{self, LibraryPolicy};
///
/// # let server = throwaway_redis::RedisServer::start()?;
/// # let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
/// # runtime.block_on(async {
/// let mut connection = server.client().get_multiplexed_async_connection().await?;
/// let reports = libraries::load_libraries_async(&mut connection, LibraryPolicy::Report).await?;
/// assert!(reports.iter().all(|report| report.is_current()));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// # })?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// # }
/// ```
pub async fn load_libraries_async<C>(
    connection: &mut C,
    policy: LibraryPolicy,
) -> Result<Vec<LibraryReport>, Error>
where
    C: redis::aio::ConnectionLike,
{
    let mut loading = Loading::new(policy);
    loop {
        let commands = loading.commands();
        if commands.is_empty() {
            return Ok(loading.finish());
        }
        let replies = send_batch_async(connection, &commands).await?;
        loading.feed(replies);
    }
}

/// What the server has of each registered library: `FUNCTION LIST` of each, one pipeline.
struct Listing {
    libraries: Vec<&'static RegisteredLibrary>,
}

impl Listing {
    fn new() -> Self {
        Listing {
            libraries: registered_libraries(),
        }
    }

    fn commands(&self) -> Vec<Cmd> {
        self.libraries
            .iter()
            .map(|library| list_command(library.name))
            .collect()
    }

    /// Each library with its code on the server (`None`: not loaded).
    fn read(
        self,
        replies: Vec<RedisResult<Value>>,
    ) -> Result<Vec<(&'static RegisteredLibrary, Option<String>)>, Error> {
        self.libraries
            .into_iter()
            .zip(replies)
            .map(|(library, reply)| {
                let code = server_error_as_err(reply)
                    .and_then(|value| loaded_code(value, library.name))?;
                Ok((library, code))
            })
            .collect()
    }
}

fn pick_missing(
    listed: Vec<(&'static RegisteredLibrary, Option<String>)>,
) -> Vec<&'static RegisteredLibrary> {
    listed
        .into_iter()
        .filter_map(|(library, code)| code.is_none().then_some(library))
        .collect()
}

fn pick_stale(listed: Vec<(&'static RegisteredLibrary, Option<String>)>) -> Vec<StaleLibrary> {
    listed
        .into_iter()
        .filter_map(|(library, code)| {
            let loaded_code = code?;
            (loaded_code != library.source).then_some(StaleLibrary {
                library,
                loaded_code,
            })
        })
        .collect()
}

/// The registered libraries the server does not have (one pipeline of `FUNCTION LIST`),
/// changing nothing.
///
/// ```
/// # include!("../doc/transfer_function.rs");
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use redis_script::libraries;
///
/// # let server = throwaway_redis::RedisServer::start()?;
/// # let mut connection = server.connection()?;
/// let missing = libraries::missing_libraries(&mut connection)?;
/// assert!(missing.iter().any(|library| library.name == "doc_bank"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// # }
/// ```
pub fn missing_libraries<C>(connection: &mut C) -> Result<Vec<&'static RegisteredLibrary>, Error>
where
    C: redis::ConnectionLike + ?Sized,
{
    let listing = Listing::new();
    let replies = send_batch(connection, &listing.commands())?;
    Ok(pick_missing(listing.read(replies)?))
}

/// The asynchronous [`missing_libraries`].
///
/// ```no_run
/// # async fn run() -> Result<(), redis_script::Error> {
/// let client = redis::Client::open("redis://127.0.0.1/")?;
/// let mut connection = client.get_multiplexed_async_connection().await?;
/// let missing = redis_script::libraries::missing_libraries_async(&mut connection).await?;
/// # Ok(()) }
/// ```
pub async fn missing_libraries_async<C>(
    connection: &mut C,
) -> Result<Vec<&'static RegisteredLibrary>, Error>
where
    C: redis::aio::ConnectionLike,
{
    let listing = Listing::new();
    let replies = send_batch_async(connection, &listing.commands()).await?;
    Ok(pick_missing(listing.read(replies)?))
}

/// The registered libraries the server has with other code than the compiled one (one
/// pipeline of `FUNCTION LIST ... WITHCODE`), changing nothing: calls to their functions run
/// the server's code. Of two [conflicting](LibraryState::Conflict) registered libraries, at
/// least one is listed.
///
/// ```
/// # include!("../doc/transfer_function.rs");
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use redis_script::libraries;
///
/// # let server = throwaway_redis::RedisServer::start()?;
/// # let mut connection = server.connection()?;
/// // An older deploy loaded another version of the library.
/// redis::cmd("FUNCTION")
///     .arg("LOAD")
///     .arg("#!lua name=doc_bank\nredis.register_function('doc_transfer', function() return 0 end)")
///     .exec(&mut connection)?;
/// let stale = libraries::stale_libraries(&mut connection)?;
/// assert_eq!(stale.len(), 1);
/// assert_eq!(stale[0].library.name, "doc_bank");
/// assert!(stale[0].loaded_code.contains("return 0"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// # }
/// ```
pub fn stale_libraries<C>(connection: &mut C) -> Result<Vec<StaleLibrary>, Error>
where
    C: redis::ConnectionLike + ?Sized,
{
    let listing = Listing::new();
    let replies = send_batch(connection, &listing.commands())?;
    Ok(pick_stale(listing.read(replies)?))
}

/// The asynchronous [`stale_libraries`].
///
/// ```no_run
/// # async fn run() -> Result<(), redis_script::Error> {
/// let client = redis::Client::open("redis://127.0.0.1/")?;
/// let mut connection = client.get_multiplexed_async_connection().await?;
/// for stale in redis_script::libraries::stale_libraries_async(&mut connection).await? {
///     eprintln!("{} runs other code on the server", stale.library.name);
/// }
/// # Ok(()) }
/// ```
pub async fn stale_libraries_async<C>(connection: &mut C) -> Result<Vec<StaleLibrary>, Error>
where
    C: redis::aio::ConnectionLike,
{
    let listing = Listing::new();
    let replies = send_batch_async(connection, &listing.commands()).await?;
    Ok(pick_stale(listing.read(replies)?))
}

/// How [`load_libraries_cluster`] went on one primary.
///
/// ```
/// use redis_script::libraries::NodeLibraries;
///
/// fn report(nodes: &[NodeLibraries]) {
///     for node in nodes {
///         match &node.result {
///             Ok(reports) => {
///                 for report in reports.iter().filter(|report| !report.is_current()) {
///                     eprintln!("{}: {} {:?}", node.address, report.library.name, report.state);
///                 }
///             }
///             Err(error) => eprintln!("{}: {error}", node.address),
///         }
///     }
/// }
/// # report(&[]);
/// ```
#[cfg(feature = "cluster")]
#[derive(Debug)]
pub struct NodeLibraries {
    /// `host:port`, as the cluster announces the primary (`CLUSTER NODES`).
    pub address: String,
    /// A report per registered library, as [`load_libraries`] gives; or why the node could
    /// not be asked.
    pub result: Result<Vec<LibraryReport>, Error>,
}

#[cfg(feature = "cluster")]
impl NodeLibraries {
    /// Whether the node runs the compiled code of every registered library.
    ///
    /// ```
    /// let node = redis_script::libraries::NodeLibraries {
    ///     address: "127.0.0.1:7000".into(),
    ///     result: Ok(vec![]),
    /// };
    /// assert!(node.is_current());
    /// ```
    pub fn is_current(&self) -> bool {
        matches!(&self.result, Ok(reports) if reports.iter().all(LibraryReport::is_current))
    }
}

/// [`load_libraries`] on every primary of a cluster (those `CLUSTER NODES` lists), one at a
/// time, each reported on its own: a primary that is down is reported with its error and does
/// not stop the others. Replicas receive the libraries from their primaries (and keep them
/// when promoted); they refuse `FUNCTION LOAD` themselves. The call fails as a whole only when
/// no node answers `CLUSTER NODES`.
///
/// ```no_run
/// use redis_script::libraries::{self, LibraryPolicy};
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let client = redis::cluster::ClusterClient::new(vec!["redis://127.0.0.1:7000/"])?;
/// let mut connection = client.get_connection()?;
/// let nodes = libraries::load_libraries_cluster(&mut connection, LibraryPolicy::Report)?;
/// assert!(nodes.iter().all(|node| node.is_current()));
/// # Ok(()) }
/// ```
#[cfg(feature = "cluster")]
pub fn load_libraries_cluster(
    connection: &mut crate::cluster::ClusterConnection,
    policy: LibraryPolicy,
) -> Result<Vec<NodeLibraries>, Error> {
    let nodes = crate::cluster::nodes_sync(connection)?;
    Ok(nodes
        .into_iter()
        .filter(|node| node.primary)
        .map(|node| {
            let routing = node.routing();
            let mut loading = Loading::new(policy);
            let result = loop {
                let commands = loading.commands();
                if commands.is_empty() {
                    break Ok(loading.finish());
                }
                let mut replies = Vec::with_capacity(commands.len());
                for command in &commands {
                    replies.push(connection.route_command(command, routing.clone()));
                }
                match unreachable(replies) {
                    Ok(replies) => loading.feed(replies),
                    Err(error) => break Err(Error::Redis(error)),
                }
            };
            NodeLibraries {
                address: node.address(),
                result,
            }
        })
        .collect())
}

/// The replies of one node, or the error that says the node could not be reached (then the
/// node is reported as a whole rather than each library failing alike).
#[cfg(feature = "cluster")]
fn unreachable(replies: Vec<RedisResult<Value>>) -> Result<Vec<RedisResult<Value>>, RedisError> {
    let is_unreachable = |reply: &RedisResult<Value>| matches!(reply, Err(error) if error.is_io_error() || error.is_connection_refusal());
    match replies.iter().position(is_unreachable) {
        Some(at) => match replies.into_iter().nth(at) {
            Some(Err(error)) => Err(error),
            _ => Err(client_error("unreachable node", String::new())),
        },
        None => Ok(replies),
    }
}

/// The asynchronous [`load_libraries_cluster`]. The `redis` crate's asynchronous cluster
/// connection only sends to nodes it is connected to, so a primary it has not discovered yet
/// is reported with an error.
///
/// ```no_run
/// use redis_script::libraries::{self, LibraryPolicy};
///
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// let client = redis::cluster::ClusterClient::new(vec!["redis://127.0.0.1:7000/"])?;
/// let mut connection = client.get_async_connection().await?;
/// let nodes = libraries::load_libraries_cluster_async(&mut connection, LibraryPolicy::Report).await?;
/// # Ok(()) }
/// ```
#[cfg(feature = "cluster")]
pub async fn load_libraries_cluster_async(
    connection: &mut crate::cluster::AsyncClusterConnection,
    policy: LibraryPolicy,
) -> Result<Vec<NodeLibraries>, Error> {
    let nodes = crate::cluster::nodes_async(connection).await?;
    let mut reports = Vec::with_capacity(nodes.len());
    for node in nodes.into_iter().filter(|node| node.primary) {
        let routing = node.routing();
        let mut loading = Loading::new(policy);
        let result = loop {
            let commands = loading.commands();
            if commands.is_empty() {
                break Ok(loading.finish());
            }
            let mut replies = Vec::with_capacity(commands.len());
            for command in commands {
                replies.push(connection.route_command(command, routing.clone()).await);
            }
            match unreachable(replies) {
                Ok(replies) => loading.feed(replies),
                Err(error) => break Err(Error::Redis(error)),
            }
        };
        reports.push(NodeLibraries {
            address: node.address(),
            result,
        });
    }
    Ok(reports)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bulk(text: &str) -> Value {
        Value::BulkString(text.as_bytes().to_vec())
    }

    #[test]
    fn reads_the_code_of_the_named_library_in_both_protocols() {
        let resp2 = Value::Array(vec![Value::Array(vec![
            bulk("library_name"),
            bulk("bank"),
            bulk("engine"),
            bulk("LUA"),
            bulk("functions"),
            Value::Array(vec![]),
            bulk("library_code"),
            bulk("#!lua name=bank\n"),
        ])]);
        assert_eq!(
            loaded_code(resp2.clone(), "bank").ok().flatten().as_deref(),
            Some("#!lua name=bank\n")
        );
        assert_eq!(loaded_code(resp2, "ban").ok().flatten(), None);
        let resp3 = Value::Array(vec![Value::Map(vec![
            (Value::SimpleString("library_name".into()), bulk("bank")),
            (Value::SimpleString("library_code".into()), bulk("code")),
        ])]);
        assert_eq!(
            loaded_code(resp3, "bank").ok().flatten().as_deref(),
            Some("code")
        );
        assert_eq!(
            loaded_code(Value::Array(vec![]), "bank").ok().flatten(),
            None
        );
        assert!(loaded_code(Value::Okay, "bank").is_err());
    }
}
