// A script assembled from shared helpers: SOURCE is what is sent, and the registry has the
// map back to each file.
use redis_script::Script;

#[derive(redis_script::RedisScript)]
#[redis_script(path = "ui/pass/lua/touch_job.lua", returns = i64)]
struct TouchJob<'a> {
    #[key]
    job: &'a str,
}

fn main() {
    assert!(TouchJob::SOURCE.starts_with("--- @include \"includes/timestamps\"\nlocal function now_ms()"));
    assert!(TouchJob::SOURCE.ends_with("return touch(KEYS[1])\n"));
    let registered = redis_script::scripts()
        .into_iter()
        .find(|script| script.name == "TouchJob")
        .expect("registered");
    assert_eq!(registered.source, TouchJob::SOURCE);
    let files: Vec<&str> = registered.source_map.iter().map(|segment| segment.path).collect();
    assert_eq!(
        files,
        ["ui/pass/lua/touch_job.lua", "ui/pass/lua/includes/timestamps.lua", "ui/pass/lua/touch_job.lua"]
    );
}
