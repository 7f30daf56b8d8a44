// `shard` is neither #[key] nor #[arg], and the key template does not use it.
#[derive(redis_script::RedisScript)]
#[redis_script(path = "ui/lua/cluster_unused_field.lua")]
struct Get {
    #[key("{{user}}:{}")]
    id: u64,
    shard: String,
}

fn main() {}
