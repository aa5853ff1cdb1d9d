// The runs page: poll the runs still queued or running; reload once one ends so counts and
// buttons refresh. The progress URL comes from the table's data-progress-url.
(function () {
  "use strict";
  const table = document.querySelector("table[data-progress-url]");
  if (!table) return;
  const url = table.dataset.progressUrl;
  function active() {
    return Array.from(document.querySelectorAll("tr[data-run]"))
      .filter((tr) => ["queued", "running"].includes(tr.dataset.status));
  }
  async function poll() {
    const rows = active();
    if (!rows.length) return;
    try {
      const res = await fetch(url + "?ids=" + rows.map((tr) => tr.dataset.run).join(","), {credentials: "same-origin"});
      const data = await res.json();
      for (const run of data.runs) {
        const tr = document.querySelector(`tr[data-run="${run.run_id}"]`);
        if (!tr) continue;
        tr.querySelector(".run-bar").style.width = (run.progress * 100).toFixed(1) + "%";
        tr.querySelector(".run-chunks").textContent = `${run.chunks_done}/${run.chunks_total} 块`;
        tr.querySelector(".run-status").textContent = run.status_label;
        tr.querySelector(".run-needs").textContent = run.needs;
        tr.querySelector(".run-achievements").textContent = run.achievements;
        tr.querySelector(".run-error").textContent = run.error;
        if (run.seconds !== null) tr.querySelector(".run-seconds").textContent = run.seconds.toFixed(1) + " 秒";
        if (run.status !== tr.dataset.status && !["queued", "running"].includes(run.status)) {
          window.location.reload();
          return;
        }
        tr.dataset.status = run.status;
      }
    } catch (e) { /* the next poll tries again */ }
    setTimeout(poll, 1000);
  }
  setTimeout(poll, 1000);
})();
