// The desk's only script: drag-and-drop upload with a progress bar. Everything works without it
// (the form posts normally and the job page refreshes itself); CSP allows no inline script.
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  const form = document.getElementById("upload-form");
  const drop = document.getElementById("drop");
  const input = document.getElementById("files");
  const progress = document.getElementById("progress");
  if (!form || !drop || !input || !progress) return;

  const send = (files) => {
    if (!files.length) return;
    const data = new FormData();
    data.append("csrf", form.elements.namedItem("csrf").value);
    for (const file of files) data.append("files", file, file.name);
    const request = new XMLHttpRequest();
    const bar = document.createElement("progress");
    bar.max = 100;
    progress.replaceChildren(document.createTextNode("正在上传 " + files.length + " 个文件…"), bar);
    progress.hidden = false;
    request.upload.addEventListener("progress", (event) => {
      if (event.lengthComputable) bar.value = Math.round((100 * event.loaded) / event.total);
    });
    request.addEventListener("load", () => {
      if (request.status === 200) {
        window.location.assign(JSON.parse(request.responseText).url);
      } else {
        progress.textContent = "上传失败（" + request.status + "）：" + request.responseText;
      }
    });
    request.addEventListener("error", () => { progress.textContent = "上传失败：连接中断"; });
    request.open("POST", form.action);
    request.setRequestHeader("Accept", "application/json");
    request.send(data);
  };

  ["dragenter", "dragover"].forEach((name) => drop.addEventListener(name, (event) => {
    event.preventDefault();
    drop.classList.add("over");
  }));
  ["dragleave", "drop"].forEach((name) => drop.addEventListener(name, () => drop.classList.remove("over")));
  drop.addEventListener("drop", (event) => {
    event.preventDefault();
    send(Array.from(event.dataTransfer.files));
  });
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    send(Array.from(input.files));
  });
});
