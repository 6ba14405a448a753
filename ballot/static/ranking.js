// Ranked ballots without typing numbers: the candidates become a list to put
// in order with buttons (keyboard) or by dragging (pointer). The page works
// without this script: it only sets the same rank fields the form submits.
"use strict";

function setUpRanking(fieldset) {
  const rows = Array.from(fieldset.querySelectorAll(".rank-row"));
  const hint = fieldset.querySelector(".hint");
  const status = document.createElement("p");
  status.className = "visually-hidden";
  status.setAttribute("aria-live", "polite");
  const ranked = document.createElement("ol");
  ranked.className = "ranking";
  ranked.setAttribute("aria-label", "Your ranking, first choice first");
  const unranked = document.createElement("ul");
  unranked.className = "unranked";
  unranked.setAttribute("aria-label", "Candidates you have not ranked");

  const order = rows
    .filter((row) => row.querySelector("select").value)
    .sort((a, b) => a.querySelector("select").value - b.querySelector("select").value)
    .map((row) => row.dataset.candidate);

  function button(text, label, action) {
    const b = document.createElement("button");
    b.type = "button";
    b.className = "secondary small";
    b.textContent = text;
    b.setAttribute("aria-label", label);
    b.addEventListener("click", action);
    return b;
  }

  function render() {
    ranked.replaceChildren();
    unranked.replaceChildren();
    rows.forEach((row) => {
      const select = row.querySelector("select");
      const position = order.indexOf(row.dataset.candidate);
      select.value = position >= 0 ? String(position + 1) : "";
    });
    order.forEach((name, i) => {
      const li = document.createElement("li");
      li.draggable = true;
      li.dataset.candidate = name;
      const label = document.createElement("span");
      label.textContent = `${i + 1}. ${name}`;
      li.append(label,
        button("↑", `Move ${name} up`, () => move(name, -1, "up")),
        button("↓", `Move ${name} down`, () => move(name, 1, "down")),
        button("Remove", `Remove ${name} from your ranking`, () => remove(name)));
      ranked.append(li);
    });
    rows.map((row) => row.dataset.candidate).filter((name) => !order.includes(name)).forEach((name) => {
      const li = document.createElement("li");
      const label = document.createElement("span");
      label.textContent = name;
      li.append(label, button("Add", `Add ${name} to your ranking`, () => add(name)));
      unranked.append(li);
    });
  }

  function focus(label) {
    const target = fieldset.querySelector(`[aria-label="${label}"]`);
    if (target) target.focus();
  }

  function announce(text) { status.textContent = text; }
  function move(name, step, direction) {
    const i = order.indexOf(name);
    const j = i + step;
    if (j < 0 || j >= order.length) return;
    order.splice(i, 1);
    order.splice(j, 0, name);
    render();
    focus(`Move ${name} ${direction}`);
    announce(`${name} is now number ${j + 1}.`);
  }
  function add(name) {
    order.push(name);
    render();
    focus(`Move ${name} up`);
    announce(`${name} added as number ${order.length}.`);
  }
  function remove(name) {
    order.splice(order.indexOf(name), 1);
    render();
    focus(`Add ${name} to your ranking`);
    announce(`${name} removed from your ranking.`);
  }

  let dragged = null;
  ranked.addEventListener("dragstart", (e) => { dragged = e.target.closest("li")?.dataset.candidate || null; });
  ranked.addEventListener("dragover", (e) => e.preventDefault());
  ranked.addEventListener("drop", (e) => {
    e.preventDefault();
    const over = e.target.closest("li")?.dataset.candidate;
    if (!dragged || !over || dragged === over) return;
    order.splice(order.indexOf(dragged), 1);
    order.splice(order.indexOf(over), 0, dragged);
    render();
    announce(`${dragged} is now number ${order.indexOf(dragged) + 1}.`);
  });

  // Hidden, not only invisible: the keyboard must not stop on fields nobody can see. They are still sent.
  rows.forEach((row) => { row.hidden = true; });
  if (hint) hint.textContent = "Add candidates to your ranking in order of preference; move them with the arrow buttons or by dragging.";
  const unrankedHeading = document.createElement("p");
  unrankedHeading.textContent = "Not ranked:";
  fieldset.querySelector(".abstain").before(ranked, unrankedHeading, unranked, status);
  render();
}

document.querySelectorAll("fieldset.ranked").forEach(setUpRanking);
