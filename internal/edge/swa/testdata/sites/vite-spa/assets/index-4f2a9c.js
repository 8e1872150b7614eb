console.log("app bundle");
