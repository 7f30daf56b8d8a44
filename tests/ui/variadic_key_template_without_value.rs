// The template of a variadic key has no `{}`: every entry would make the same key.
#[derive(redis_script::RedisScript)]
#[redis_script(path = "ui/lua/variadic_key_template_without_value.lua")]
struct DeleteItems {
    #[key("{{cart:{user}}}:item", variadic)]
    items: Vec<String>,
    user: String,
}

fn main() {}
