//! #18 item 9: adapters are cheap to clone (as an aws-sdk client is): a clone shares the
//! connection pool, credentials cache and rate limiter, and allocates nothing. Counted with
//! a counting global allocator (per thread, so other tests' threads do not interfere).

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use imageshare::core::paging::{BoxStream, TryStreamExt};
use imageshare::testing::ConnectEmulator;
use imageshare::{ClientBuilder, Connect, DynSharing, ImageSharingExt, Principal, Sharee};
use imageshare_emulator::{Emulator, World};

struct Counting;

thread_local! {
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
}

// SAFETY: every call is forwarded to the system allocator unchanged; the counter is a
// const-initialised thread-local `Cell` (no allocation, no destructor).
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let _ = ALLOCATIONS.try_with(|n| n.set(n.get() + 1));
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let _ = ALLOCATIONS.try_with(|n| n.set(n.get() + 1));
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Allocations made on this thread by `f`.
fn allocations<T>(f: impl FnOnce() -> T) -> (T, usize) {
    let before = ALLOCATIONS.with(Cell::get);
    let out = f();
    (out, ALLOCATIONS.with(Cell::get) - before)
}

const ACCOUNT: &str = "100000000001";

fn connect(emu: &Emulator, provider: imageshare::Provider, region: &str) -> Connect {
    Connect::new(provider).region(region).emulator(emu, ACCOUNT)
}

#[tokio::test]
async fn every_adapter_clones_without_allocating() {
    let emu = Emulator::start(World::example()).await.unwrap();
    let ecs = connect(&emu, imageshare::alibaba::ECS, "cn-hangzhou")
        .ecs()
        .unwrap();
    let sas = connect(&emu, imageshare::alibaba::SAS, "cn-hangzhou")
        .sas()
        .unwrap();
    let cvm = connect(&emu, imageshare::tencent::CVM, "ap-guangzhou")
        .cvm()
        .unwrap();
    let lighthouse = connect(&emu, imageshare::tencent::LIGHTHOUSE, "ap-guangzhou")
        .lighthouse()
        .unwrap();
    let uhost = connect(&emu, imageshare::ucloud::UHOST, "cn-bj2")
        .ucloud()
        .unwrap();
    let dynamic: DynSharing = connect(&emu, imageshare::tencent::CVM, "ap-guangzhou")
        .build()
        .unwrap();

    let counts = [
        ("ecs", allocations(|| ecs.clone()).1),
        ("sas", allocations(|| sas.clone()).1),
        ("cvm", allocations(|| cvm.clone()).1),
        ("lighthouse", allocations(|| lighthouse.clone()).1),
        ("uhost", allocations(|| uhost.clone()).1),
        ("DynSharing", allocations(|| dynamic.clone()).1),
    ];
    assert!(counts.iter().all(|(_, n)| *n == 0), "{counts:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_clone_in_each_spawned_task_shares_one_client() {
    let emu = Emulator::start(World::example()).await.unwrap();
    let sharing = connect(&emu, imageshare::tencent::CVM, "ap-guangzhou")
        .build()
        .unwrap();
    let tasks: Vec<_> = (0..4)
        .map(|_| {
            let sharing = sharing.clone();
            tokio::spawn(async move { sharing.image(&"img-6pb6lrmy".into()).await })
        })
        .collect();
    for task in tasks {
        assert_eq!(task.await.unwrap().unwrap().id.as_str(), "img-6pb6lrmy");
    }
    // Each lookup: CVM DescribeImages, then CBS DescribeSnapshots (encryption).
    assert_eq!(
        emu.action_count(imageshare::tencent::CVM, "DescribeImages"),
        4
    );
    assert_eq!(emu.calls().len(), 8);
}

/// #18 item 4: the listing of a `DynSharing` as a `'static` stream, made in a function that
/// drops the client and read on a spawned task.
fn sharees_of(sharing: DynSharing, id: &str) -> BoxStream<'static, imageshare::Result<Sharee>> {
    sharing.sharees_stream(&id.into())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stream_outlives_the_client_it_came_from() {
    let emu = Emulator::start(World::example()).await.unwrap();
    let sharing = connect(&emu, imageshare::tencent::CVM, "ap-guangzhou")
        .build()
        .unwrap();
    let id = "img-6pb6lrmy".into();
    let to = [Principal::account("100000000002")];
    sharing
        .share(&id, &to)
        .await
        .unwrap()
        .into_result()
        .unwrap();
    let stream = sharees_of(sharing, "img-6pb6lrmy");
    let sharees: Vec<Sharee> = tokio::spawn(stream.try_collect()).await.unwrap().unwrap();
    let principals: Vec<Principal> = sharees.into_iter().map(|s| s.principal).collect();
    assert_eq!(principals, to);
}
