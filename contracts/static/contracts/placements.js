/*
 * The placement page of a contract template (templates/admin/contracts/contract/placements.html).
 * Plain JavaScript, no build step, no inline code (the admin's CSP allows scripts from 'self' only).
 *
 * Reads #sq-placement-data (json_script): pages (points), placements (top-left points), the
 * vocabulary, the marks and the enable rule's groups. Draws one box per placement over its page
 * image (1 pt = scale px); with `editable`, boxes are dragged (pointer events), resized from their
 * lower-right corner and removed with ×; "添加到页面" adds one. On submit the boxes go to the server
 * as JSON in the hidden #id_placements; the server checks every box again (inside the page, a known
 * value) and saves all or nothing.
 */
(function () {
  "use strict";

  var source = document.getElementById("sq-placement-data");
  if (!source) {
    return;
  }
  var data = JSON.parse(source.textContent);
  var scale = data.scale;
  var editable = !!data.editable;
  var marks = {};
  data.marks.forEach(function (key) { marks[key] = true; });
  var sizes = {};
  data.pages.forEach(function (page) { sizes[page.number] = page; });
  var pageElements = {};
  document.querySelectorAll(".sq-page").forEach(function (element) {
    pageElements[element.dataset.page] = element;
  });

  var boxes = data.placements.map(function (row) {
    return {
      key: row.key,
      page: row.page,
      x: row.x,
      y: row.y,
      width: row.width,
      height: row.height,
      source: row.source || "manual",
      anchor: row.anchor || ""
    };
  });

  function round(value) {
    return Math.round(value * 100) / 100;
  }

  function clamp(value, low, high) {
    return Math.min(Math.max(value, low), Math.max(low, high));
  }

  function place(element, box) {
    element.style.left = box.x * scale + "px";
    element.style.top = box.y * scale + "px";
    element.style.width = box.width * scale + "px";
    element.style.height = box.height * scale + "px";
    element.dataset.x = round(box.x);
    element.dataset.y = round(box.y);
    element.dataset.width = round(box.width);
    element.dataset.height = round(box.height);
  }

  function updateMissing() {
    var placed = {};
    boxes.forEach(function (box) { placed[box.key] = true; });
    var missing = data.required.filter(function (group) {
      return !group.some(function (key) { return placed[key]; });
    }).map(function (group) {
      return group.map(function (key) { return data.vocabulary[key]; }).join("或");
    });
    var state = document.getElementById("sq-placement-state");
    if (!state) {
      return;
    }
    state.className = missing.length ? "sq-missing" : "sq-complete";
    state.textContent = missing.length
      ? "缺少必需的字段位置：" + missing.join("、") + "（放置完整后才能启用模板）"
      : "必需的字段位置已全部放置。";
    state.dataset.missing = missing.join("、");
  }

  function manual(box) {
    box.source = "manual";
    box.anchor = "";
  }

  // Drag (move) or resize one box with the pointer; coordinates in points, kept inside the page.
  function track(event, box, element, mode) {
    event.preventDefault();
    event.stopPropagation();
    var page = sizes[box.page];
    var startX = event.clientX;
    var startY = event.clientY;
    var origin = { x: box.x, y: box.y, width: box.width, height: box.height };
    element.classList.add("sq-active");
    element.setPointerCapture(event.pointerId);

    function move(e) {
      var dx = (e.clientX - startX) / scale;
      var dy = (e.clientY - startY) / scale;
      if (mode === "move") {
        box.x = clamp(origin.x + dx, 0, page.width - box.width);
        box.y = clamp(origin.y + dy, 0, page.height - box.height);
      } else {
        box.width = clamp(origin.width + dx, 4, page.width - box.x);
        box.height = clamp(origin.height + dy, 4, page.height - box.y);
      }
      manual(box);
      place(element, box);
    }

    function end(e) {
      element.releasePointerCapture(e.pointerId);
      element.classList.remove("sq-active");
      element.removeEventListener("pointermove", move);
      element.removeEventListener("pointerup", end);
      element.removeEventListener("pointercancel", end);
    }

    element.addEventListener("pointermove", move);
    element.addEventListener("pointerup", end);
    element.addEventListener("pointercancel", end);
  }

  function draw(box) {
    var container = pageElements[String(box.page)];
    if (!container) {
      return null;
    }
    var element = document.createElement("div");
    element.className = "sq-box" + (marks[box.key] ? " sq-mark" : "") + (editable ? " sq-editable" : "");
    element.dataset.key = box.key;
    element.title = data.vocabulary[box.key] || box.key;
    var label = document.createElement("span");
    label.className = "sq-box-label";
    label.textContent = data.vocabulary[box.key] || box.key;
    element.appendChild(label);
    if (editable) {
      var handle = document.createElement("span");
      handle.className = "sq-box-resize";
      handle.addEventListener("pointerdown", function (event) { track(event, box, element, "resize"); });
      element.appendChild(handle);
      var remove = document.createElement("button");
      remove.type = "button";
      remove.className = "sq-box-remove";
      remove.textContent = "×";
      remove.title = "删除";
      remove.addEventListener("pointerdown", function (event) { event.stopPropagation(); });
      remove.addEventListener("click", function () {
        boxes.splice(boxes.indexOf(box), 1);
        element.remove();
        updateMissing();
      });
      element.appendChild(remove);
      element.addEventListener("pointerdown", function (event) {
        if (event.button === 0) {
          track(event, box, element, "move");
        }
      });
    }
    place(element, box);
    container.appendChild(element);
    return element;
  }

  boxes.forEach(draw);
  updateMissing();

  if (!editable) {
    return;
  }

  var add = document.getElementById("sq-add");
  if (add) {
    add.addEventListener("click", function () {
      var key = document.getElementById("sq-add-key").value;
      var number = parseInt(document.getElementById("sq-add-page").value, 10);
      var page = sizes[number];
      var width = key === "company_seal" || key === "seam_seal" ? 110 : key === "employee_signature" ? 130 : 160;
      var height = key === "company_seal" || key === "seam_seal" ? 110 : key === "employee_signature" ? 44 : 18;
      var box = {
        key: key,
        page: number,
        x: clamp(72, 0, page.width - width),
        y: clamp(72, 0, page.height - height),
        width: Math.min(width, page.width),
        height: Math.min(height, page.height),
        source: "manual",
        anchor: ""
      };
      boxes.push(box);
      var element = draw(box);
      element.classList.add("sq-new");
      element.scrollIntoView({ block: "center" });
      updateMissing();
    });
  }

  var form = document.getElementById("sq-placement-form");
  if (form) {
    form.addEventListener("submit", function () {
      document.getElementById("id_placements").value = JSON.stringify(boxes.map(function (box) {
        return {
          key: box.key,
          page: box.page,
          x: round(box.x),
          y: round(box.y),
          width: round(box.width),
          height: round(box.height),
          source: box.source,
          anchor: box.anchor
        };
      }));
    });
  }
})();
