//! A leaderboard: submit a score, the top N, the players around me.
//!
//! What it relies on: a sorted set keeps members ordered by score, with `ZREVRANK` and
//! `ZREVRANGE` in O(log n) from the best, so ranks need no separate index. `ZADD ... GT`
//! (Redis 6.2) only ever raises a member's score, so a player's best stands and submitting is
//! idempotent. Submitting and reading the new rank in one script returns the rank that score
//! got, not one already changed by the next submission. The two read scripts share a Lua
//! helper through `--- @include`, inlined at compile time (errors at run time still name the
//! helper's file and line).
//!
//! ```text
//! cargo run -p redis-script-examples --example leaderboard
//! ```

mod support;

use redis_script::RedisScript;
use support::check;

/// A row of the board: rank (1 is the best), player, score.
type Row = (i64, String, i64);

/// Records `score` if it is `player`'s best; returns the player's rank.
#[derive(RedisScript)]
#[redis_script(path = "lua/leaderboard/submit.lua", returns = i64)]
struct Submit<'a> {
    #[key("board:{}")]
    board: &'a str, // KEYS[1] = "board:<board>"
    #[arg]
    player: &'a str,
    #[arg]
    score: i64,
}

/// The `count` best players.
#[derive(RedisScript)]
#[redis_script(path = "lua/leaderboard/top.lua", returns = Vec<Row>)]
struct Top<'a> {
    #[key("board:{}")]
    board: &'a str,
    #[arg]
    count: u32,
}

/// `player` and up to `radius` players on either side.
#[derive(RedisScript)]
#[redis_script(path = "lua/leaderboard/around.lua", returns = Vec<Row>)]
struct Around<'a> {
    #[key("board:{}")]
    board: &'a str,
    #[arg]
    player: &'a str,
    #[arg]
    radius: u32,
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (client, _server) = support::client()?;
    let mut connection = client.get_connection()?;
    let board = "weekly";
    redis::cmd("DEL")
        .arg("board:weekly")
        .exec(&mut connection)?;

    let scores = [
        ("ada", 320),
        ("bo", 150),
        ("cy", 410),
        ("di", 90),
        ("ed", 275),
        ("fay", 500),
        ("gus", 60),
    ];
    for (player, score) in scores {
        let rank = Submit {
            board,
            player,
            score,
        }
        .invoke(&mut connection)?;
        println!("  {player} scores {score}: rank {rank}");
    }
    let rank = Submit {
        board,
        player: "ada",
        score: 100,
    }
    .invoke(&mut connection)?;
    check(
        &format!("ada's worse score 100 keeps her best, 320, at rank {rank}"),
        rank == 3,
    )?;
    let rank = Submit {
        board,
        player: "bo",
        score: 450,
    }
    .invoke(&mut connection)?;
    check(
        &format!("bo's new best 450 moves him to rank {rank}"),
        rank == 2,
    )?;

    let top = Top { board, count: 3 }.invoke(&mut connection)?;
    println!("top 3: {top:?}");
    let names: Vec<&str> = top.iter().map(|(_, player, _)| player.as_str()).collect();
    check("the top 3 are fay, bo, cy", names == ["fay", "bo", "cy"])?;

    let around = Around {
        board,
        player: "ed",
        radius: 1,
    }
    .invoke(&mut connection)?;
    println!("around ed: {around:?}");
    let expected: Vec<Row> = vec![
        (4, "ada".into(), 320),
        (5, "ed".into(), 275),
        (6, "di".into(), 90),
    ];
    check("ed (5th) sits between ada and di", around == expected)?;
    let around = Around {
        board,
        player: "fay",
        radius: 2,
    }
    .invoke(&mut connection)?;
    check(
        "around the leader starts at rank 1",
        around.first().map(|row| row.0) == Some(1) && around.len() == 3,
    )?;
    let around = Around {
        board,
        player: "nobody",
        radius: 2,
    }
    .invoke(&mut connection)?;
    check(
        "a player without a score has no neighbourhood",
        around.is_empty(),
    )?;
    Ok(())
}
