/* The order of libuv 1.46's idle, prepare and check handles, with no Node
 * in between: the reference for tests/suite/watchers.rs
 * (`watcher_order_matches_libuv`), which asserts the lines in
 * watcher_order.out. Build against libuv v1.46.0 and run:
 *   cc watcher_order.c -Ilibuv/include libuv.a -lpthread -ldl && ./a.out
 *
 * What it shows: handles of a kind run in reverse start order (libuv
 * inserts at the head of the list); a handle started, or stopped and
 * started again, by a callback of its own pass waits for the next pass; one
 * stopped before its turn does not run; idle, then prepare, then poll, then
 * check, then close callbacks; a check handle closed by an
 * earlier check callback of the same pass does not run. */
#include <stdio.h>
#include <uv.h>

static uv_idle_t i1, i2, i3, i4;
static uv_prepare_t p1, p2;
static uv_check_t c1, c2;
static int iter = 0;
static int closed = 0;

static const char* nm(void* h) {
  if (h == &i1) return "i1";
  if (h == &i2) return "i2";
  if (h == &i3) return "i3";
  if (h == &i4) return "i4";
  if (h == &p1) return "p1";
  if (h == &p2) return "p2";
  if (h == &c1) return "c1";
  if (h == &c2) return "c2";
  return "?";
}

/* (libuv runs close callbacks in reverse order of the uv_close calls,
 * evloop in call order: only c1's, alone in its close phase, is printed.) */
static void on_close(uv_handle_t* h) {
  if (h == (uv_handle_t*) &c1) printf("close %s\n", nm(h));
  closed++;
}

static void idle_cb(uv_idle_t* h);

static void idle_cb(uv_idle_t* h) {
  printf("%d idle %s\n", iter, nm(h));
  if (iter == 1 && h == &i3) {
    uv_idle_start(&i4, idle_cb); /* started in the pass: next pass */
    uv_idle_stop(&i1);           /* stopped before its turn: skipped */
  }
  if (iter == 1 && h == &i2) {
    uv_idle_stop(&i2);           /* restarted: to the head, next pass */
    uv_idle_start(&i2, idle_cb);
  }
}

static void prepare_cb(uv_prepare_t* h) {
  printf("%d prepare %s\n", iter, nm(h));
  if (h == &p1) iter++;
}

static void check_cb(uv_check_t* h) {
  printf("%d check %s\n", iter, nm(h));
  if (iter == 2 && h == &c2) uv_close((uv_handle_t*) &c1, on_close);
  if (iter == 3) {
    uv_close((uv_handle_t*) &i1, on_close);
    uv_close((uv_handle_t*) &i2, on_close);
    uv_close((uv_handle_t*) &i3, on_close);
    uv_close((uv_handle_t*) &i4, on_close);
    uv_close((uv_handle_t*) &p1, on_close);
    uv_close((uv_handle_t*) &p2, on_close);
    uv_close((uv_handle_t*) h, on_close);
  }
}

int main(void) {
  uv_loop_t* loop = uv_default_loop();
  uv_idle_init(loop, &i1);
  uv_idle_init(loop, &i2);
  uv_idle_init(loop, &i3);
  uv_idle_init(loop, &i4);
  uv_prepare_init(loop, &p1);
  uv_prepare_init(loop, &p2);
  uv_check_init(loop, &c1);
  uv_check_init(loop, &c2);
  uv_idle_start(&i1, idle_cb);
  uv_idle_start(&i2, idle_cb);
  uv_idle_start(&i3, idle_cb);
  uv_prepare_start(&p2, prepare_cb);
  uv_prepare_start(&p1, prepare_cb);
  uv_check_start(&c1, check_cb);
  uv_check_start(&c2, check_cb);
  uv_run(loop, UV_RUN_DEFAULT);
  printf("done: %d iterations, %d closed\n", iter, closed);
  return 0;
}
