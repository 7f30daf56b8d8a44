// ZRANK took exactly two arguments before Redis 7.2 added WITHSCORE.
#[derive(redis_script::RedisScript)]
#[redis_script(path = "ui/lua/arity_of_older_target.lua", server = "redis-7.0")]
struct RankWithScore<'a> {
    #[key]
    board: &'a str,
    #[arg]
    member: &'a str,
}

fn main() {}
