// `path` names a directory, not a file: the error names the path it resolved to.
#[derive(redis_script::RedisScript)]
#[redis_script(path = "ui/lua")]
struct Directory;

fn main() {}
