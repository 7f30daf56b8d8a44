// `note` is neither #[key] nor #[arg], and no key template uses it.
#[derive(redis_script::RedisScript)]
#[redis_script(path = "ui/lua/field_without_role.lua")]
struct Get {
    #[key]
    key: String,
    note: String,
}

fn main() {}
