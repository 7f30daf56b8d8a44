// A variadic field spreads a list; a map is not one (it would write each key and value).
use std::collections::HashMap;

#[derive(redis_script::RedisScript)]
#[redis_script(path = "ui/lua/variadic_field_not_a_list.lua")]
struct SetFields<'a> {
    #[key]
    hash: &'a str,
    #[arg(variadic)]
    fields: HashMap<String, String>,
}

fn main() {}
