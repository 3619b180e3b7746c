// minutes browse: a value's source opens in the panel beside it (without script, on a page of its own).
"use strict";
document.addEventListener("click", async (event) => {
  const link = event.target.closest("a.value");
  const panel = document.getElementById("source");
  if (!link || !panel) return;
  event.preventDefault();
  const response = await fetch(link.getAttribute("href") + "&fragment=1");
  panel.innerHTML = await response.text();
  document.querySelectorAll("a.value.active").forEach((a) => a.classList.remove("active"));
  link.classList.add("active");
  const mark = panel.querySelector("mark");
  const pre = panel.querySelector("pre.page");
  if (mark && pre) pre.scrollTop = Math.max(0, mark.offsetTop - pre.offsetTop - pre.clientHeight / 3);
  panel.dataset.loaded = link.getAttribute("href");
});
